// Resolves 'loyalty-engine/core' from here, with Node's ESM conditions (node + import).
export * from 'loyalty-engine/core';
export { default } from 'loyalty-engine/core';

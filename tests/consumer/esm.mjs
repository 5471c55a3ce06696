// Resolves 'loyalty-engine' from here, with Node's ESM conditions (node + import).
export * from 'loyalty-engine';
export { default } from 'loyalty-engine';

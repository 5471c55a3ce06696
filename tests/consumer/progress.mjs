// Resolves 'loyalty-engine/progress' from here, with Node's ESM conditions (node + import).
export * from 'loyalty-engine/progress';
export { default } from 'loyalty-engine/progress';

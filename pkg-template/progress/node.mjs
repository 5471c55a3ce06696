// `loyalty-engine/progress`, Node.js entry, ES module: a wrapper around ./node.cjs (one Wasm
// instance and one LoyaltyError class for ESM and CommonJS code in one process).
import api from './node.cjs';

export const { init, Engine, LoyaltyError, validate, evalLine } = api;
export default init;

// Node.js entry, ES module (`import … from 'loyalty-engine'`): a wrapper around node.cjs, so
// ESM and CommonJS code in one process share one Wasm instance and one LoyaltyError class.
import api from './node.cjs';

export const { init, Engine, LoyaltyError, validate, simulate, generate, Simulation, ParallelSimulation, evalLine } = api;
export default init;

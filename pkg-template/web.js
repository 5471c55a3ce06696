// Browser / bundler entry (the `browser` and `default` export conditions).
// `await init()` once before using the API: it fetches and instantiates the .wasm file that
// sits next to this module (bundlers such as Vite pick it up through `new URL(…, import.meta.url)`).
import wbgInit, * as raw from './wasm/loyalty_engine.js';
import { createApi } from './api.js';
import { createInit } from './web-init.js';

const { init, isReady } = createInit(wbgInit);

export default init;
export { init };
export const { Engine, LoyaltyError, validate, simulate, generate, Simulation, ParallelSimulation, evalLine } = createApi(raw, isReady);

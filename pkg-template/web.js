// Browser / bundler entry (the `browser` and `default` export conditions).
// `await init()` once before using the API: it fetches and instantiates the .wasm file that
// sits next to this module (bundlers such as Vite pick it up through `new URL(…, import.meta.url)`).
import wbgInit, * as raw from './wasm/loyalty_engine.js';
import { createApi } from './api.js';
import { createInit } from './web-init.js';

const { init, isReady, workerInput } = createInit(wbgInit);

// `ParallelSimulation`'s workers: module Web Workers (web-worker.js), each instantiating the
// module from what `init()` was given.
const parallel = {
  defaultWorkers() {
    return Math.max(1, globalThis.navigator?.hardwareConcurrency || 2);
  },
  spawn({ onMessage, onError }) {
    const worker = new Worker(new URL('./web-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = (event) => onMessage(event.data);
    worker.onerror = (event) => {
      event.preventDefault?.();
      onError(new Error(event.message || 'the Web Worker could not be started'));
    };
    worker.postMessage({ type: 'wasm', input: workerInput() });
    return {
      post: (message) => worker.postMessage(message),
      terminate: () => worker.terminate(),
      ref() {},
      unref() {},
    };
  },
};

export default init;
export { init };
export const { Engine, LoyaltyError, validate, simulate, generate, Simulation, ParallelSimulation, evalLine } =
  createApi(raw, isReady, { parallel });

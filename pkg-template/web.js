// Browser / bundler entry (the `browser` and `default` export conditions).
// `await init()` once before using the API: it fetches and instantiates the .wasm file that
// sits next to this module (bundlers such as Vite pick it up through `new URL(…, import.meta.url)`).
import wbgInit, * as raw from './wasm/loyalty_engine.js';
import { createApi } from './api.js';

let ready = false;
let pending = null;

/**
 * Instantiates the WebAssembly module. Safe to call many times; later calls return the same
 * promise. `input` optionally overrides where the .wasm comes from (a URL, a Response, bytes or
 * a WebAssembly.Module).
 */
export default function init(input) {
  if (!pending) {
    const wrapped =
      input === undefined || (input !== null && Object.getPrototypeOf(input) === Object.prototype && 'module_or_path' in input)
        ? input
        : { module_or_path: input };
    pending = wbgInit(wrapped).then(
      () => {
        ready = true;
      },
      (e) => {
        pending = null;
        throw e;
      },
    );
  }
  return pending;
}

export { init };
export const { Engine, LoyaltyError, validate, simulate, generate, Simulation, evalLine } = createApi(
  raw,
  () => ready,
);

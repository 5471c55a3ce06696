// `init()` of the browser entries (web.js, core/web.js): instantiates a wasm-bindgen `--target
// web` module once. Safe to call many times; later calls return the same promise.

/**
 * @param {(input?: object) => Promise<unknown>} wbgInit the glue's default export
 * @returns {{ init: (input?: unknown) => Promise<void>, isReady: () => boolean, workerInput: () => unknown }}
 */
export function createInit(wbgInit) {
  let ready = false;
  let pending = null;
  let given;

  /**
   * Instantiates the WebAssembly module. `input` optionally overrides where the .wasm comes from
   * (a URL, a Response, bytes or a WebAssembly.Module).
   */
  function init(input) {
    if (!pending) {
      const wrapped =
        input === undefined || (input !== null && Object.getPrototypeOf(input) === Object.prototype && 'module_or_path' in input)
          ? input
          : { module_or_path: input };
      given = wrapped?.module_or_path;
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

  /**
   * What a worker (ParallelSimulation) can instantiate the same module from: what `init` was
   * given if it can be posted to a worker (a URL as text, a WebAssembly.Module, bytes), else
   * undefined (the worker loads the .wasm next to the glue, as `init()` does by default).
   */
  function workerInput() {
    if (typeof given === 'string') return new URL(given, globalThis.location?.href).href;
    if (typeof URL === 'function' && given instanceof URL) return given.href;
    if (typeof WebAssembly === 'object' && given instanceof WebAssembly.Module) return given;
    if (given instanceof ArrayBuffer || ArrayBuffer.isView(given)) return given;
    return undefined;
  }

  return { init, isReady: () => ready, workerInput };
}

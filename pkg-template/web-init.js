// `init()` of the browser entries (web.js, core/web.js): instantiates a wasm-bindgen `--target
// web` module once. Safe to call many times; later calls return the same promise.

/**
 * @param {(input?: object) => Promise<unknown>} wbgInit the glue's default export
 * @returns {{ init: (input?: unknown) => Promise<void>, isReady: () => boolean }}
 */
export function createInit(wbgInit) {
  let ready = false;
  let pending = null;

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

  return { init, isReady: () => ready };
}

// The public JS API of loyalty-engine, built on the raw string-level Wasm exports
// (src/wasm.rs). Shared by every entry point: web.js imports this file as ESM; the Node
// entry uses api.cjs, which scripts/assemble-pkg.mjs derives from this file (so keep this
// file free of imports and keep its only export `export function createApi`).
//
// Crossing the boundary: JSON text goes into Wasm (objects are JSON.stringify'd here) and the
// engine's answer is JSON.parse'd, so JSON.stringify(result) is byte-identical to the CLI's
// `loyalty eval` line (SPEC §7.1). Points are JSON integers, hence plain JS numbers.

/**
 * An engine error: `{"error":{"code","message","path"}}` on the wire. One class for the full and
 * the core entry (web.js and core/web.js share api.js; in Node every entry shares api.cjs), so
 * `instanceof` works across them.
 */
class LoyaltyError extends Error {
  constructor(code, message, path = '') {
    super(message);
    this.name = 'LoyaltyError';
    this.code = code;
    this.path = path;
  }

  /** So that JSON.stringify(err) equals the CLI's error line. */
  toJSON() {
    return { error: { code: this.code, message: this.message, path: this.path } };
  }
}

/**
 * @param {object} raw the wasm-bindgen module (RawEngine, call, evalLine)
 * @param {() => boolean} isReady false until the Wasm module is instantiated (web: `init()`)
 * @param {{core?: boolean}} [module] `core: true` for the core module (`loyalty-engine/core`,
 *   src/wasm.rs without the `full` feature): the API is the validate/quote subset.
 */
export function createApi(raw, isReady, { core = false } = {}) {
  function ensureReady() {
    if (!isReady()) {
      throw new Error(
        'loyalty-engine: the WebAssembly module is not initialized yet: `await init()` first',
      );
    }
  }

  // Objects are serialized here; strings are taken to be JSON text already.
  function toJson(value, code, what) {
    if (typeof value === 'string') return value;
    let text;
    try {
      text = JSON.stringify(value);
    } catch (e) {
      throw new LoyaltyError(code, `the ${what} cannot be written as JSON: ${e.message}`, '');
    }
    if (text === undefined) {
      throw new LoyaltyError(code, `the ${what} must be a JSON value, got ${typeof value}`, '');
    }
    return text;
  }

  function errorFrom(body) {
    return new LoyaltyError(body.code, body.message, body.path);
  }

  // Parses an engine answer; an `{"error":…}` answer is thrown as a LoyaltyError.
  function answer(text) {
    const value = JSON.parse(text);
    if (value !== null && typeof value === 'object' && 'error' in value) {
      const keys = Object.keys(value);
      if (keys.length === 1 && value.error !== null && typeof value.error === 'object') {
        throw errorFrom(value.error);
      }
    }
    return value;
  }

  // wasm-bindgen throws a Rust `Err(JsValue)` as-is: the raw constructor throws error JSON text.
  function rethrow(e) {
    if (typeof e === 'string' && e.startsWith('{"error":')) return errorFrom(JSON.parse(e).error);
    return e;
  }

  // Engine methods of the full module only (the core module's RawEngine answers quote alone).
  const FULL_ONLY_METHODS = ['verify', 'replay', 'progress'];

  const disposeSymbol = typeof Symbol.dispose === 'symbol' ? Symbol.dispose : null;

  /** A validated policy ready to answer requests. */
  class Engine {
    #raw;

    constructor(policy) {
      ensureReady();
      const json = toJson(policy, 'invalid_policy', 'policy');
      try {
        this.#raw = new raw.RawEngine(json);
      } catch (e) {
        throw rethrow(e);
      }
    }

    /** `"sha256:<hex>"` of the canonical policy. */
    get policyDigest() {
      return this.#raw.policyDigest;
    }

    // One line per engine operation (and one line in src/wasm.rs, one in index.d.ts).
    quote(request) { return this.#call('quote', request); }
    verify(request) { return this.#call('verify', request); }
    replay(request) { return this.#call('replay', request); }
    progress(request) { return this.#call('progress', request); }

    #call(op, request) {
      return answer(this.#raw.call(op, toJson(request, 'invalid_request', 'request')));
    }

    /** Frees the Wasm memory now instead of when the engine is garbage-collected. */
    free() {
      this.#raw.free();
    }
  }
  // The core module has no replay, progress or verify: no such methods rather than ones that fail.
  if (core) for (const op of FULL_ONLY_METHODS) delete Engine.prototype[op];
  if (disposeSymbol) {
    Object.defineProperty(Engine.prototype, disposeSymbol, {
      value: Engine.prototype.free,
      writable: true,
      configurable: true,
    });
  }

  function moduleOp(op, what, code) {
    return (input) => {
      ensureReady();
      return answer(raw.call(op, toJson(input, code, what)));
    };
  }

  // One line per module-level operation.
  const validate = moduleOp('validate', 'policy', 'invalid_policy');
  const simulate = moduleOp('simulate', 'request', 'invalid_request');

  /** Synthetic member histories as NDJSON text, identical to `loyalty generate`'s output. */
  function generate(options) {
    ensureReady();
    const text = raw.generate(toJson(options, 'invalid_request', 'options'));
    if (text.startsWith('{"error":')) answer(text);
    return text;
  }

  /**
   * A simulation fed in chunks (e.g. from a Web Worker): `new Simulation({ policy, baseline,
   * as_of, expected_redemption })`, `.add(members)` (an array of `{ member, events }` or NDJSON
   * text), `.progress` (members added), `.finish()` → the same report as `simulate`.
   */
  class Simulation {
    #raw;

    constructor(request) {
      ensureReady();
      try {
        this.#raw = new raw.RawSimulation(toJson(request, 'invalid_request', 'request'));
      } catch (e) {
        throw rethrow(e);
      }
    }

    add(members) {
      const text = typeof members === 'string'
        ? members
        : members.map((m) => toJson(m, 'invalid_request', 'member')).join('\n');
      this.#raw.add(text);
      return this;
    }

    get progress() {
      return this.#raw.progress;
    }

    finish() {
      const text = this.#raw.finish();
      this.#raw.free();
      return answer(text);
    }
  }

  /** The CLI contract (`loyalty eval`): one request line in, the exact response line out. */
  function evalLine(line) {
    ensureReady();
    if (typeof line !== 'string') {
      throw new TypeError(`evalLine expects a string, got ${typeof line}`);
    }
    const out = raw.evalLine(line);
    return out === undefined ? null : out;
  }

  if (core) return { Engine, LoyaltyError, validate, evalLine };
  return { Engine, LoyaltyError, validate, simulate, generate, Simulation, evalLine };
}

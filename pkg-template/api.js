// The public JS API of loyalty-engine, built on the raw string-level Wasm exports
// (src/wasm.rs). Shared by every entry point: web.js imports this file as ESM; the Node
// entry uses api.cjs, which scripts/assemble-pkg.mjs derives from this file (so keep this
// file free of imports and keep its only export `export function createApi`).
//
// Crossing the boundary: JSON text goes into Wasm (objects are JSON.stringify'd here) and the
// engine's answer is JSON.parse'd, so JSON.stringify(result) is byte-identical to the CLI's
// `loyalty eval` line (SPEC §7.1). Points are JSON integers, hence plain JS numbers.

/**
 * An engine error: `{"error":{"code","message","path"}}` on the wire. One class for the full, the
 * core and the progress entry (web.js, core/web.js and progress/web.js share api.js; in Node every
 * entry shares api.cjs), so `instanceof` works across them.
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
 * @param {{module?: 'full' | 'core' | 'progress', parallel?: object}} [options] `module`: which
 *   Wasm module `raw` is — `'core'` (`loyalty-engine/core`, src/wasm.rs without the `full`
 *   feature: the validate/quote subset of the API), `'progress'` (`loyalty-engine/progress`,
 *   feature `progress`: the validate/progress subset) or `'full'` (the default: every
 *   operation). `parallel`: how this platform runs `ParallelSimulation`'s workers —
 *   `{ defaultWorkers(): number, spawn({ onMessage, onError }): { post(message), terminate(),
 *   ref(), unref() } }` (node.cjs: worker_threads; web.js: module Web Workers).
 */
export function createApi(raw, isReady, { module = 'full', parallel = null } = {}) {
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

  // The Engine methods a smaller module does not have (its RawEngine answers quote, or progress,
  // alone).
  const MISSING_METHODS = { full: [], core: ['verify', 'replay', 'progress'], progress: ['quote', 'verify', 'replay'] }[module];
  if (!MISSING_METHODS) throw new TypeError(`createApi: unknown module ${module}`);

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
  // A smaller module's Engine lacks its missing operations: no such methods rather than ones
  // that fail.
  for (const op of MISSING_METHODS) delete Engine.prototype[op];
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

  // The lines of an NDJSON chunk as the Wasm side (and `loyalty simulate`) counts them: pieces
  // split at '\n', the piece after a final '\n' not being a line; `members` are the lines that
  // are not blank (only ASCII whitespace). Blank lines keep their number, so `members[i]` in the
  // report is the line's number − 1 however the file is cut into chunks (at line ends).
  const BLANK = /^[\t\n\f\r ]*$/;
  function countLines(text) {
    let lines = 0;
    let members = 0;
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf('\n', start);
      const stop = end === -1 ? text.length : end;
      lines += 1;
      // Nearly every line starts with `{`: no need to look further.
      if (text.charCodeAt(start) === 123 || !BLANK.test(text.slice(start, stop))) members += 1;
      if (end === -1) break;
      start = end + 1;
    }
    return { lines, members };
  }

  function chunkText(members) {
    return typeof members === 'string'
      ? members
      : members.map((m) => toJson(m, 'invalid_request', 'member')).join('\n');
  }

  function workerError(error) {
    if (typeof error === 'string') {
      const e = rethrow(error);
      return e instanceof LoyaltyError ? e : new Error(`loyalty-engine: a simulation worker failed: ${e}`);
    }
    if (error instanceof Error) {
      return new Error(`loyalty-engine: a simulation worker failed: ${error.message}`, { cause: error });
    }
    return new Error(`loyalty-engine: a simulation worker failed: ${error?.name ?? 'Error'}: ${error?.message ?? error}`);
  }

  /**
   * `Simulation` on several workers (Node worker threads, browser module Web Workers), each
   * with its own Wasm instance: `add` hands each chunk to the least busy worker with the index
   * of its first member, and `finish` merges the workers' exact partial sums into the same
   * report `simulate` gives, byte for byte. `add` and `finish` return Promises; `add` waits
   * while every worker already has `maxPending` chunks (back-pressure).
   */
  class ParallelSimulation {
    #raw;
    #workers = [];
    #waiting = [];
    #next = 0;
    #done = 0;
    #maxPending;
    #failed = null;
    #state = 'open';

    constructor(request, options = {}) {
      ensureReady();
      if (!parallel) {
        throw new Error('loyalty-engine: ParallelSimulation needs worker threads (Node) or Web Workers');
      }
      const { workers = parallel.defaultWorkers(), maxPending = 2 } = options ?? {};
      for (const [name, v] of [['workers', workers], ['maxPending', maxPending]]) {
        if (!Number.isSafeInteger(v) || v < 1) {
          throw new LoyaltyError('invalid_request', `${name} must be a whole number ≥ 1, got ${v}`, name);
        }
      }
      this.#maxPending = maxPending;
      // The main thread's simulation: validates the request now (a bad policy throws here, as
      // `new Simulation` does), adds the request's own members, and merges the workers' sums.
      const json = toJson(request, 'invalid_request', 'request');
      try {
        this.#raw = new raw.RawSimulation(json);
      } catch (e) {
        throw rethrow(e);
      }
      this.#next = this.#raw.progress;
      this.#done = this.#next;
      // Workers need the request without its members.
      const plain = typeof request === 'string' ? null : toJson({ ...request, members: undefined }, 'invalid_request', 'request');
      // (A request given as text keeps its members: each worker replays and drops them.)
      try {
        for (let i = 0; i < workers; i += 1) {
          const w = { pending: 0, members: 0, partial: null, port: null };
          w.port = parallel.spawn({
            onMessage: (m) => this.#onMessage(w, m),
            onError: (e) => this.#fail(workerError(e)),
          });
          this.#workers.push(w);
          w.port.post({ type: 'init', request: plain ?? json, discard: plain === null && this.#next > 0 });
          w.port.unref();
        }
      } catch (e) {
        // No worker could be started (e.g. no Worker here): end those that were.
        this.#close('failed');
        throw e;
      }
    }

    /**
     * Adds members (`{ member, events }` objects or NDJSON text); resolves once the chunk is
     * handed to a worker. Members are numbered in the order of the `add` calls.
     */
    async add(members) {
      this.#check();
      const text = chunkText(members);
      const { lines, members: n } = countLines(text);
      const job = { text, first: this.#next, n };
      this.#next += lines;
      if (n === 0) return this;
      const w = this.#free();
      if (w) {
        this.#post(w, job);
        return this;
      }
      const queued = {};
      queued.done = new Promise((resolve, reject) => Object.assign(queued, { job, resolve, reject }));
      this.#waiting.push(queued);
      await queued.done;
      return this;
    }

    /** Members replayed so far (the workers' finished chunks, and members in the request). */
    get progress() {
      return this.#done;
    }

    /** The report, once every chunk is replayed; the simulation is used up and its workers end. */
    async finish() {
      this.#check();
      this.#state = 'finishing';
      try {
        // Chunks still waiting for a worker go first (they are handed out in order).
        while (this.#waiting.length > 0) await this.#waiting[this.#waiting.length - 1].done;
        const partials = this.#workers.map(
          (w) => new Promise((resolve, reject) => {
            w.partial = { resolve, reject };
            w.port.ref();
            w.port.post({ type: 'finish' });
          }),
        );
        const texts = await Promise.all(partials);
        if (this.#failed) throw this.#failed;
        this.#workers.forEach((w, i) => {
          try {
            this.#raw.mergePartial(texts[i], w.members);
          } catch (e) {
            throw rethrow(e);
          }
        });
        const text = this.#raw.finish();
        return answer(text);
      } finally {
        this.#close('finished');
      }
    }

    /** Stops the workers and frees the Wasm memory without a report. */
    terminate() {
      if (this.#state === 'open' || this.#state === 'finishing') {
        this.#fail(new Error('loyalty-engine: the simulation was terminated'), 'terminated');
      }
    }

    #check() {
      if (this.#failed) throw this.#failed;
      if (this.#state !== 'open') {
        throw new LoyaltyError('invalid_request', 'the simulation has already finished', '');
      }
    }

    // The worker with the fewest pending chunks below the limit (the first of equals).
    #free() {
      let best = null;
      for (const w of this.#workers) {
        if (w.pending < this.#maxPending && (best === null || w.pending < best.pending)) best = w;
      }
      return best;
    }

    #post(w, job) {
      w.pending += 1;
      w.members += job.n;
      if (w.pending === 1) w.port.ref();
      w.port.post({ type: 'add', text: job.text, first: job.first, n: job.n });
    }

    #onMessage(w, m) {
      if (this.#failed) return;
      if (m.type === 'added') {
        w.pending -= 1;
        this.#done += m.n;
        if (w.pending === 0 && !w.partial) w.port.unref();
        // Chunks waiting for a worker, in order.
        while (this.#waiting.length > 0) {
          const free = this.#free();
          if (!free) break;
          const head = this.#waiting.shift();
          this.#post(free, head.job);
          head.resolve();
        }
      } else if (m.type === 'partial') {
        w.partial?.resolve(m.text);
      } else if (m.type === 'error') {
        this.#fail(workerError(m.error));
      }
    }

    #fail(error, state = 'failed') {
      if (this.#failed || this.#state === 'finished') return;
      this.#failed = error;
      for (const x of this.#waiting.splice(0)) x.reject(error);
      for (const w of this.#workers) w.partial?.reject(error);
      this.#close(state);
    }

    #close(state) {
      if (this.#state === 'finished' || this.#state === 'failed' || this.#state === 'terminated') return;
      this.#state = state;
      for (const w of this.#workers) w.port.terminate();
      this.#raw.free();
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

  if (module !== 'full') return { Engine, LoyaltyError, validate, evalLine };
  return { Engine, LoyaltyError, validate, simulate, generate, Simulation, ParallelSimulation, evalLine };
}

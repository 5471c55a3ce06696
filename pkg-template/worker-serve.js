// One worker of a `ParallelSimulation` (see api.js): a raw Wasm simulation that replays the
// chunks it is handed, numbered from their global first index, and at the end hands back its
// partial sums as JSON text (exact integers; the main thread merges them). Shared by the Node
// worker (node-worker.cjs, through worker-serve.cjs, which scripts/assemble-pkg.mjs derives
// from this file: keep it free of imports and its only export `export function serveSimulation`)
// and the browser's module Web Worker (web-worker.js).
//
// Messages in:  {type:'init', request, discard}  {type:'add', text, first, n}  {type:'finish'}
// Messages out: {type:'added', n}  {type:'partial', text}  {type:'error', error}
//   `error` is the engine's error wire JSON (a string) or `{name, message}` for anything else.

/**
 * @param {object} raw the wasm-bindgen module (RawSimulation)
 * @param {(message: object) => void} post sends a message to the main thread
 * @returns {(message: object) => void} handles one message from the main thread
 */
export function serveSimulation(raw, post) {
  let sim = null;
  return (msg) => {
    try {
      if (msg.type === 'init') {
        sim = new raw.RawSimulation(msg.request);
        // Members inside the request are the main thread's; a worker only replays its chunks.
        if (msg.discard) sim.takePartial();
      } else if (msg.type === 'add') {
        const n = sim.addAt(msg.text, msg.first);
        // The main thread numbered the chunk's members before handing it out.
        if (n !== msg.n) throw new Error(`the chunk holds ${n} members, the main thread counted ${msg.n}`);
        post({ type: 'added', n });
      } else if (msg.type === 'finish') {
        const text = sim.takePartial();
        sim.free();
        sim = null;
        post({ type: 'partial', text });
      }
    } catch (e) {
      post({
        type: 'error',
        error: typeof e === 'string' ? e : { name: e?.name ?? 'Error', message: String(e?.message ?? e) },
      });
    }
  };
}

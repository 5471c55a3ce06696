// A module Web Worker of `ParallelSimulation` in browsers (web.js starts it): instantiates the
// full Wasm module — from what the page's `init()` was given, when that can be sent to a worker,
// else from the .wasm next to the glue — and serves the main thread's messages
// (worker-serve.js). Messages that arrive while the module loads wait for it.
import wbgInit, * as raw from './wasm/loyalty_engine.js';
import { serveSimulation } from './worker-serve.js';

let handle = null;
const early = [];
const post = (message) => self.postMessage(message);

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg?.type !== 'wasm') {
    if (handle) handle(msg);
    else early.push(msg);
    return;
  }
  try {
    await wbgInit(msg.input === undefined ? undefined : { module_or_path: msg.input });
    handle = serveSimulation(raw, post);
    for (const m of early.splice(0)) handle(m);
  } catch (e) {
    post({ type: 'error', error: { name: e?.name ?? 'Error', message: String(e?.message ?? e) } });
  }
};

// Node.js entry, CommonJS (`require('loyalty-engine')`). The Wasm module is compiled and
// instantiated synchronously when this file loads, so the API is ready at once; `init()` is
// kept for code shared with browsers and resolves immediately.
'use strict';

const raw = require('./wasm/loyalty_engine.cjs');
const { createApi } = require('./api.cjs');

// `ParallelSimulation`'s workers: worker threads, each loading the Wasm module (node-worker.cjs).
const parallel = {
  defaultWorkers() {
    const os = require('node:os');
    return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
  },
  spawn({ onMessage, onError }) {
    const { Worker } = require('node:worker_threads');
    const worker = new Worker(require('node:path').join(__dirname, 'node-worker.cjs'));
    let ended = false;
    worker.on('message', onMessage);
    worker.on('error', (e) => {
      if (!ended) onError(e);
    });
    worker.on('exit', (code) => {
      if (!ended) onError(new Error(`the worker thread exited (code ${code})`));
      ended = true;
    });
    return {
      post: (message) => worker.postMessage(message),
      terminate: () => {
        ended = true;
        worker.terminate();
      },
      // An idle worker does not keep the process alive; a busy one does (its answer is awaited).
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  },
};

const api = createApi(raw, () => true, { parallel });

function init() {
  return Promise.resolve();
}

Object.defineProperty(exports, '__esModule', { value: true });
exports.default = init;
exports.init = init;
// Everything createApi returns (node.mjs and web.js re-export the same names).
Object.assign(exports, api);

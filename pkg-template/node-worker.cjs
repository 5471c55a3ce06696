// A worker thread of `ParallelSimulation` in Node (node.cjs starts it): loads the full Wasm
// module and serves the main thread's messages (worker-serve.js).
'use strict';

const { parentPort } = require('node:worker_threads');
const raw = require('./wasm/loyalty_engine.cjs');
const { serveSimulation } = require('./worker-serve.cjs');

parentPort.on('message', serveSimulation(raw, (m) => parentPort.postMessage(m)));

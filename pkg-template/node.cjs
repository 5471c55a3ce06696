// Node.js entry, CommonJS (`require('loyalty-engine')`). The Wasm module is compiled and
// instantiated synchronously when this file loads, so the API is ready at once; `init()` is
// kept for code shared with browsers and resolves immediately.
'use strict';

const raw = require('./wasm/loyalty_engine.cjs');
const { createApi } = require('./api.cjs');

const api = createApi(raw, () => true);

function init() {
  return Promise.resolve();
}

Object.defineProperty(exports, '__esModule', { value: true });
exports.default = init;
exports.init = init;
// Everything createApi returns (node.mjs and web.js re-export the same names).
Object.assign(exports, api);

// `loyalty-engine/core`, Node.js entry, CommonJS (`require('loyalty-engine/core')`): the core
// module (validate and quote), instantiated synchronously on load like ../node.cjs.
'use strict';

const raw = require('../wasm/loyalty_engine_core.cjs');
const { createApi } = require('../api.cjs');

const api = createApi(raw, () => true, { module: 'core' });

function init() {
  return Promise.resolve();
}

Object.defineProperty(exports, '__esModule', { value: true });
exports.default = init;
exports.init = init;
// Everything createApi returns for the core module (node.mjs and web.js re-export the same names).
Object.assign(exports, api);

// `loyalty-engine/progress`, Node.js entry, CommonJS (`require('loyalty-engine/progress')`): the
// progress module (validate and progress), instantiated synchronously on load like ../node.cjs.
'use strict';

const raw = require('../wasm/loyalty_engine_progress.cjs');
const { createApi } = require('../api.cjs');

const api = createApi(raw, () => true, { module: 'progress' });

function init() {
  return Promise.resolve();
}

Object.defineProperty(exports, '__esModule', { value: true });
exports.default = init;
exports.init = init;
// Everything createApi returns for the progress module (node.mjs and web.js re-export the same names).
Object.assign(exports, api);

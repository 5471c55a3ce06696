// `loyalty-engine/core`, browser / bundler entry: the core module (validate and quote; what a
// POS needs) with the same API as web.js, minus replay, progress, verify, simulate, generate.
// `await init()` fetches wasm/loyalty_engine_core_bg.wasm.
import wbgInit, * as raw from '../wasm/loyalty_engine_core.js';
import { createApi } from '../api.js';
import { createInit } from '../web-init.js';

const { init, isReady } = createInit(wbgInit);

export default init;
export { init };
export const { Engine, LoyaltyError, validate, evalLine } = createApi(raw, isReady, { module: 'core' });

// `loyalty-engine/progress`, browser / bundler entry: the progress module (validate and progress;
// what the storefront widget `<loyalty-progress>` needs) with the same API as web.js, minus quote,
// replay, verify, simulate, generate. `await init()` fetches wasm/loyalty_engine_progress_bg.wasm.
import wbgInit, * as raw from '../wasm/loyalty_engine_progress.js';
import { createApi } from '../api.js';
import { createInit } from '../web-init.js';

const { init, isReady } = createInit(wbgInit);

export default init;
export { init };
export const { Engine, LoyaltyError, validate, evalLine } = createApi(raw, isReady, { module: 'progress' });

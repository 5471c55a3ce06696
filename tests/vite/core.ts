// The core entry in a Vite build: 'loyalty-engine/core' resolves through the package's
// `browser` export condition to core/web.js, and Vite emits the core .wasm as an asset.
// Also type-checked (tsc --noEmit -p tests/vite) against the package's generated types.
import * as api from 'loyalty-engine/core';
import { Engine, LoyaltyError, type QuoteRequest, type QuoteResponse } from 'loyalty-engine/core';
import { runScenario } from '../support/scenario.js';
import { POLICY, WORKED_EXAMPLE } from '../../www/pos/sample-data.js';

function typedQuote(engine: Engine, request: QuoteRequest): QuoteResponse | LoyaltyError {
  try {
    return engine.quote(request);
  } catch (e) {
    if (e instanceof LoyaltyError) return e;
    throw e;
  }
}
void typedQuote;

const status = document.getElementById('status')!;
try {
  window.__scenario = await runScenario(api, { policy: POLICY, request: WORKED_EXAMPLE });
  status.textContent = 'done';
} catch (e) {
  window.__scenarioError = String((e as Error)?.stack ?? e);
  status.textContent = `failed: ${window.__scenarioError}`;
}
document.body.dataset.done = '1';

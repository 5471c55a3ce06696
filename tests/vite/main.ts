// Bundled by Vite: 'loyalty-engine' resolves through the package's `browser` export condition,
// and Vite emits the .wasm as an asset via `new URL(…, import.meta.url)`.
// Also type-checked (tsc --noEmit -p tests/vite) against the package's generated types.
import * as api from 'loyalty-engine';
import init, { Engine, LoyaltyError, type QuoteRequest, type QuoteResponse } from 'loyalty-engine';
import { runScenario } from '../support/scenario.js';
import { POLICY, WORKED_EXAMPLE } from '../../www/pos/sample-data.js';

declare global {
  interface Window {
    __scenario?: unknown;
    __scenarioError?: string;
  }
}

// A typed use of the API (compile-time only checks of the .d.ts).
function typedQuote(engine: Engine, request: QuoteRequest): QuoteResponse | LoyaltyError {
  try {
    return engine.quote(request);
  } catch (e) {
    if (e instanceof LoyaltyError) return e;
    throw e;
  }
}
void typedQuote;
void init;

const status = document.getElementById('status')!;
try {
  window.__scenario = await runScenario(api, { policy: POLICY, request: WORKED_EXAMPLE });
  status.textContent = 'done';
} catch (e) {
  window.__scenarioError = String((e as Error)?.stack ?? e);
  status.textContent = `failed: ${window.__scenarioError}`;
}
document.body.dataset.done = '1';

// Type-checked by tests/node/types.test.mjs (module node16): CommonJS code requiring
// `loyalty-engine/core` (TypeScript resolves the `require` condition's types, core/index.d.cts).
import core = require('loyalty-engine/core');

const { Engine, LoyaltyError } = core;

export function quoteOrError(policy: core.PolicyDocument, request: core.QuoteRequest): core.QuoteResponse | string {
  try {
    return new Engine(policy).quote(request);
  } catch (e) {
    if (e instanceof LoyaltyError) return JSON.stringify(e);
    throw e;
  }
}

export const ready: Promise<void> = core.default();

// Type-checked by tests/node/types.test.mjs (module node16): CommonJS code requiring the package
// (TypeScript resolves the `require` condition's types, index.d.cts).
import loyalty = require('loyalty-engine');

const { Engine, LoyaltyError, validate } = loyalty;

export function quoteOrError(policy: loyalty.PolicyDocument, request: loyalty.QuoteRequest): loyalty.QuoteResponse | string {
  try {
    return new Engine(policy).quote(request);
  } catch (e) {
    if (e instanceof LoyaltyError) return JSON.stringify(e);
    throw e;
  }
}

export const digestOf = (policy: string): string => validate(policy).policy_digest;
export const ready: Promise<void> = loyalty.default();

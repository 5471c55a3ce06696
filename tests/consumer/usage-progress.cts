// Type-checked by tests/node/types.test.mjs (module node16): CommonJS code requiring
// `loyalty-engine/progress` (TypeScript resolves the `require` condition's types,
// progress/index.d.cts).
import progress = require('loyalty-engine/progress');

const { Engine, LoyaltyError } = progress;

export function progressOrError(policy: progress.PolicyDocument, request: progress.ReplayRequest): progress.ProgressResponse | string {
  try {
    return new Engine(policy).progress(request);
  } catch (e) {
    if (e instanceof LoyaltyError) return JSON.stringify(e);
    throw e;
  }
}

export const ready: Promise<void> = progress.default();

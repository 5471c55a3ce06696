// Type-checked by tests/node/types.test.mjs (tsc --noEmit, module node16): an ES module using
// `loyalty-engine/progress` (the storefront widget's entry: validate and progress) with the
// package's generated types.
import init, { Engine, LoyaltyError, evalLine, validate } from 'loyalty-engine/progress';
import type { PolicyDocument, ProgressResponse, ReplayRequest, ValidateResponse } from 'loyalty-engine/progress';

await init();

export function progress(policy: PolicyDocument, request: ReplayRequest): ProgressResponse | LoyaltyError {
  const engine: Engine = new Engine(policy);
  try {
    const digest: string = engine.policyDigest;
    void digest;
    const answer = engine.progress(request);
    const remaining: string | number | null = answer.remaining;
    void remaining;
    return answer;
  } catch (e) {
    if (e instanceof LoyaltyError) return e;
    throw e;
  } finally {
    engine.free();
  }
}

export const checked = (policy: string): ValidateResponse => validate(policy);
export const line: string | null = evalLine('{"op":"validate","policy":{}}');

export function notInProgress(engine: Engine): void {
  // @ts-expect-error the progress module has no quote (it is in 'loyalty-engine/core' and 'loyalty-engine')
  engine.quote({});
}

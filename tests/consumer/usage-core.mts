// Type-checked by tests/node/types.test.mjs (tsc --noEmit, module node16): an ES module using
// `loyalty-engine/core` (the POS entry: validate and quote) with the package's generated types.
import init, { Engine, LoyaltyError, evalLine, validate } from 'loyalty-engine/core';
import type { PolicyDocument, QuoteRequest, QuoteResponse, ValidateResponse } from 'loyalty-engine/core';

await init();

export function quote(policy: PolicyDocument, request: QuoteRequest): QuoteResponse | LoyaltyError {
  const engine: Engine = new Engine(policy);
  try {
    const digest: string = engine.policyDigest;
    void digest;
    return engine.quote(request);
  } catch (e) {
    if (e instanceof LoyaltyError) return e;
    throw e;
  } finally {
    engine.free();
  }
}

export const checked = (policy: string): ValidateResponse => validate(policy);
export const line: string | null = evalLine('{"op":"validate","policy":{}}');

export function notInCore(engine: Engine): void {
  // @ts-expect-error the core module has no replay (it is in the full module, 'loyalty-engine')
  engine.replay({});
}

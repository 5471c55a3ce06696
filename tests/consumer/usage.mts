// Type-checked by tests/node/types.test.mjs (tsc --noEmit, module node16): an ES module using
// the installed package's types, which come from the engine's Rust types.
import init, { Engine, LoyaltyError, ParallelSimulation, evalLine, validate } from 'loyalty-engine';
import type {
  ErrorCode,
  ParallelSimulationOptions,
  PolicyDocument,
  QuoteRequest,
  QuoteResponse,
  SimulateResponse,
  ValidateResponse,
} from 'loyalty-engine';

await init();

const policy: PolicyDocument = {
  schema: 1,
  id: 'shop',
  currency: 'EUR',
  time_zone: 'Europe/Berlin',
  earning: { spend: '1', points: 1, rules: [{ id: 'shoes', when: { categories: ['shoes'] }, multiplier: '2' }] },
  tiers: { levels: [{ id: 'member', name: 'Member', threshold: '0' }], window: { rolling_months: 12 } },
  redemption: { point_value: '0.01', max_share: '0.5' },
};
const request: QuoteRequest = {
  member: { id: 'm-1', status: 'active', tier: 'member', points: 100 },
  cart: { id: 'o-1', at: '2026-03-07T10:00:00+01:00', lines: [{ id: 'A', quantity: 1, unit_price: '12.50' }] },
  redeem_points: 'max',
};

const engine = new Engine(policy);
const digest: string = engine.policyDigest;
const quote: QuoteResponse = engine.quote(request);
const total: string = quote.total;
const earned: number = quote.earned_points;
const paid: string[] = quote.lines.map((line) => line.paid);
const checked: ValidateResponse = validate(JSON.stringify(policy));
const line: string | null = evalLine(JSON.stringify({ op: 'quote', policy, ...request }));

try {
  new Engine('{}');
} catch (e) {
  if (e instanceof LoyaltyError) {
    const code: ErrorCode = e.code;
    const where: string = e.path;
    const wire: string = e.toJSON().error.message;
    void [code, where, wire];
  }
}

// @ts-expect-error a quote needs a member and a cart
engine.quote({ cart: request.cart });
// @ts-expect-error points are numbers, not strings
const wrong: QuoteRequest = { ...request, member: { ...request.member, points: '100' } };
// @ts-expect-error evalLine takes the raw line
evalLine(request);

// Simulation on worker threads: the same request and report types as `simulate`.
async function whatIf(ndjson: string): Promise<SimulateResponse> {
  const options: ParallelSimulationOptions = { workers: 2, maxPending: 2 };
  const sim = new ParallelSimulation({ policy, baseline: null, as_of: '2026-10-01T00:00:00+02:00' }, options);
  await sim.add(ndjson);
  const done: number = sim.progress;
  void done;
  // @ts-expect-error add takes members or NDJSON text
  void sim.add(42);
  return sim.finish();
}

engine.free();
export { digest, total, earned, paid, checked, line, wrong, whatIf };

// Assertions shared by the Node and browser tests.
import assert from 'node:assert/strict';

/** The error codes of src/error.rs (SPEC §0–§7). */
export const ERROR_CODES = [
  'invalid_policy',
  'invalid_request',
  'amount_overflow',
  'limit_exceeded',
  'redemption_exceeds_limit',
  'redemption_below_minimum',
  'redemption_step_mismatch',
  'redemption_not_available',
  'member_not_active',
  'unknown_tier',
  'duplicate_event_id',
  'unknown_order',
  'refund_exceeds_order',
  'unknown_reward',
  'insufficient_points',
];

/** A compact `{"error":{"code","message","path"}}` line, fields in that order. */
export function assertErrorLine(line, { code } = {}) {
  assert.equal(typeof line, 'string', 'an error answer is a string');
  const value = JSON.parse(line);
  assert.equal(JSON.stringify(value), line, 'the line is compact JSON that JS writes back byte-identically');
  assert.deepEqual(Object.keys(value), ['error']);
  assert.deepEqual(Object.keys(value.error), ['code', 'message', 'path']);
  assert.ok(ERROR_CODES.includes(value.error.code), `known error code: ${value.error.code}`);
  assert.equal(typeof value.error.message, 'string');
  assert.ok(value.error.message.length > 0, 'the message says something');
  assert.equal(typeof value.error.path, 'string');
  if (code) assert.equal(value.error.code, code);
  return value.error;
}


/** SPEC §2's worked example, hand-checked: the figures a correct engine must give. */
export function assertWorkedExample(quote) {
  assert.equal(quote.currency, 'VND');
  assert.equal(quote.tier, 'silver');
  assert.equal(quote.subtotal, '1700000');
  assert.equal(quote.tier_discount, '85000');
  assert.equal(quote.max_redeemable_points, 300);
  assert.equal(quote.redeemed_points, 300);
  assert.equal(quote.redeemed_amount, '300000');
  assert.equal(quote.total, '1315000');
  assert.equal(quote.earned_points, 32);
  assert.deepEqual(
    quote.lines.map((l) => [l.id, l.tier_discount, l.redeemed_amount]),
    [
      ['A', '25000', '88235'],
      ['B', '60000', '211765'],
    ],
  );
  assert.match(quote.digest, /^sha256:[0-9a-f]{64}$/);
  assert.match(quote.policy_digest, /^sha256:[0-9a-f]{64}$/);
}

/**
 * Checks a tests/support/scenario.js result. What must hold whatever the engine's state is
 * checked always; the real answers are required once `live` says that part has landed, and
 * checked whenever the engine already gives them.
 */
export function assertScenario(out, live) {
  // The boundary itself.
  assert.equal(out.evalBlank, null, 'evalLine of a blank line is null');
  const bad = assertErrorLine(out.evalBadJson, { code: 'invalid_request' });
  assert.equal(bad.path, '', 'bad JSON is reported at path "" (SPEC §7.26)');
  assert.deepEqual(out.madeError, {
    json: '{"error":{"code":"invalid_request","message":"a \\"quoted\\" message","path":"cart.lines[0].quantity"}}',
    isError: true,
    name: 'LoyaltyError',
  });
  for (const key of ['badPolicy', 'notJson']) {
    const o = out[key];
    assert.ok(o.error, `${key}: a LoyaltyError is thrown (got ${JSON.stringify(o)})`);
    assertErrorLine(o.error, { code: 'invalid_policy' });
    assert.equal(o.isError, true);
    assert.equal(o.name, 'LoyaltyError');
    assert.deepEqual(o.fields, ['string', 'string', 'string']);
  }

  // validate(policy)
  let validated = null;
  if (out.validate.ok) {
    validated = JSON.parse(out.validate.ok);
    assert.deepEqual(Object.keys(validated), ['policy_digest', 'warnings']);
    assert.match(validated.policy_digest, /^sha256:[0-9a-f]{64}$/);
    assert.ok(Array.isArray(validated.warnings));
  } else {
    assert.ok(!live.policy, `validate(SPEC §1 policy) failed: ${JSON.stringify(out.validate)}`);
    assert.ok(out.validate.error, `validate threw a non-LoyaltyError: ${JSON.stringify(out.validate)}`);
    assertErrorLine(out.validate.error);
  }
  assert.deepEqual(out.validateText, out.validate, 'JSON text and object give the same answer');

  // new Engine(policy)
  if (out.engine.ok) {
    const { policyDigest } = JSON.parse(out.engine.ok);
    assert.match(policyDigest, /^sha256:[0-9a-f]{64}$/);
    if (validated) assert.equal(policyDigest, validated.policy_digest);
  } else {
    assert.ok(!live.policy, `new Engine(SPEC §1 policy) failed: ${JSON.stringify(out.engine)}`);
    assert.ok(out.engine.error, `new Engine threw a non-LoyaltyError: ${JSON.stringify(out.engine)}`);
    assertErrorLine(out.engine.error, { code: 'invalid_policy' });
  }

  // engine.quote(SPEC §2 worked example)
  if (out.quote?.ok) {
    assertWorkedExample(JSON.parse(out.quote.ok));
  } else {
    assert.ok(!live.quote, `the worked example did not quote: ${JSON.stringify(out.quote ?? out.engine)}`);
    if (out.quote) assertErrorLine(out.quote.error);
  }
  assert.deepEqual(out.quoteText, out.quote, 'JSON text and object give the same answer');

  // evalLine: the CLI contract gives the same bytes as the object API.
  if (live.eval || !out.evalQuote.startsWith('{"error":')) {
    assert.equal(out.evalQuote, out.quote?.ok, 'evalLine(quote) === JSON.stringify(engine.quote(…))');
  } else {
    assertErrorLine(out.evalQuote);
  }
  if (live.eval || !out.evalValidate.startsWith('{"error":')) {
    assert.equal(out.evalValidate, out.validate.ok, 'evalLine(validate) === JSON.stringify(validate(…))');
  } else {
    assertErrorLine(out.evalValidate);
  }
}

// One scenario run against the package through whichever entry point a test loads (Node ESM,
// Node CJS, a browser module script, a Vite bundle). Its result is plain JSON, so the tests can
// require every environment to produce exactly the same result as Node does.

/**
 * @param {object} api the package's exports (default = init, Engine, validate, evalLine, LoyaltyError)
 * @param {{policy: object, request: object}} input a policy and a quote request
 */
export async function runScenario(api, { policy, request }) {
  const init = api.default ?? api.init;
  const { Engine, validate, evalLine, LoyaltyError } = api;
  await init();

  // Every call's outcome as text: {ok: JSON of the result} or {error: JSON of the LoyaltyError}.
  const outcome = (f) => {
    try {
      return { ok: JSON.stringify(f()) };
    } catch (e) {
      if (!(e instanceof LoyaltyError)) return { threw: `${e?.name}: ${e?.message}` };
      return {
        error: JSON.stringify(e),
        isError: e instanceof Error,
        name: e.name,
        fields: [e.code, e.message, e.path].map((v) => typeof v),
      };
    }
  };

  const out = {};
  out.validate = outcome(() => validate(policy));
  out.validateText = outcome(() => validate(JSON.stringify(policy, null, 2)));
  let engine = null;
  out.engine = outcome(() => {
    engine = new Engine(policy);
    return { policyDigest: engine.policyDigest };
  });
  out.quote = engine ? outcome(() => engine.quote(request)) : null;
  out.quoteText = engine ? outcome(() => engine.quote(JSON.stringify(request))) : null;
  out.badPolicy = outcome(() => new Engine({ schema: 1, unknown_field: true }));
  out.notJson = outcome(() => new Engine('{"schema": 1,'));
  out.evalQuote = evalLine(JSON.stringify({ op: 'quote', policy, ...request }));
  out.evalValidate = evalLine(JSON.stringify({ op: 'validate', policy }));
  out.evalBadJson = evalLine('{"op": "quote",');
  out.evalBlank = evalLine('   ');
  const made = new LoyaltyError('invalid_request', 'a "quoted" message', 'cart.lines[0].quantity');
  out.madeError = { json: JSON.stringify(made), isError: made instanceof Error, name: made.name };
  engine?.free();
  return out;
}

// The built package in Node, as an application installs it (tests/consumer ← the packed
// tarball): ES module and CommonJS entry points, the JS API's shape, and SPEC §2's worked
// example through every path.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { POLICY, WORKED_EXAMPLE } from '../../www/pos/sample-data.js';
import { assertErrorLine, assertScenario } from '../support/checks.js';
import { LIVE } from '../support/live.js';
import { cjs, esm, resolvedRequire } from '../support/package.js';
import { CONSUMER, PKG, ROOT } from '../support/paths.js';
import { runScenario } from '../support/scenario.js';

const API = ['Engine', 'LoyaltyError', 'ParallelSimulation', 'Simulation', 'default', 'evalLine', 'generate', 'init', 'simulate', 'validate'];

test('ESM: import init, { Engine, validate, evalLine, LoyaltyError } from "loyalty-engine"', async () => {
  assert.deepEqual(Object.keys(esm).sort(), API);
  assert.equal(typeof esm.default, 'function');
  assert.equal(esm.default, esm.init);
  // Node: ready on import, init() resolves at once (and may be called again).
  assert.equal(await esm.default(), undefined);
  assert.equal(await esm.init(), undefined);
});

test('CommonJS: require("loyalty-engine") resolves to node.cjs', async () => {
  assert.equal(resolvedRequire, path.join(CONSUMER, 'node_modules', 'loyalty-engine', 'node.cjs'));
  for (const name of API) assert.ok(name in cjs, `require() exposes ${name}`);
  assert.equal(typeof cjs.Engine, 'function');
  assert.equal(await cjs.default(), undefined);
});

test('every entry point exports the same names (node.mjs, node.cjs, web.js)', async () => {
  const web = await import(pathToFileURL(path.join(PKG, 'web.js')).href);
  assert.deepEqual(Object.keys(cjs).sort(), API);
  assert.deepEqual(Object.keys(web).sort(), API);
});

test('ESM and CommonJS share one instance: one LoyaltyError class', () => {
  assert.equal(esm.LoyaltyError, cjs.LoyaltyError);
  assert.equal(esm.Engine, cjs.Engine);
  try {
    new cjs.Engine('{');
    assert.fail('expected a LoyaltyError');
  } catch (e) {
    assert.ok(e instanceof esm.LoyaltyError);
  }
});

test('LoyaltyError: an Error with code, message, path; JSON.stringify gives the CLI error line', () => {
  const { LoyaltyError } = esm;
  const e = new LoyaltyError('redemption_exceeds_limit', 'at most 300 points', 'redeem_points');
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'LoyaltyError');
  assert.equal(e.code, 'redemption_exceeds_limit');
  assert.equal(e.message, 'at most 300 points');
  assert.equal(e.path, 'redeem_points');
  assert.match(String(e), /^LoyaltyError: at most 300 points/);
  assert.equal(
    JSON.stringify(e),
    '{"error":{"code":"redemption_exceeds_limit","message":"at most 300 points","path":"redeem_points"}}',
  );
  assert.ok(e.stack.includes('package.test.mjs'), 'the stack points at the caller');
  assert.equal(new LoyaltyError('invalid_request', 'm').path, '');
});

test('the engine throws LoyaltyError for a bad policy (object, JSON text, invalid JSON)', () => {
  const { Engine, LoyaltyError, validate } = esm;
  for (const policy of [{}, '{}', '{"schema":', { ...POLICY, currency: 'XXX', minor_units: undefined, typo: 1 }]) {
    for (const run of [() => new Engine(policy), () => validate(policy)]) {
      try {
        run();
        assert.fail(`expected a LoyaltyError for ${JSON.stringify(policy)}`);
      } catch (e) {
        assert.ok(e instanceof LoyaltyError, `a LoyaltyError, got ${e}`);
        assertErrorLine(JSON.stringify(e), { code: 'invalid_policy' });
      }
    }
  }
});

test('inputs that are not JSON values are LoyaltyErrors too (never a crash)', () => {
  const { Engine, LoyaltyError, validate } = esm;
  const cyclic = {};
  cyclic.self = cyclic;
  for (const bad of [undefined, () => 1, 10n, cyclic]) {
    for (const [run, code] of [
      [() => new Engine(bad), 'invalid_policy'],
      [() => validate(bad), 'invalid_policy'],
    ]) {
      assert.throws(run, (e) => e instanceof LoyaltyError && e.code === code && e.path === '');
    }
  }
  assert.throws(() => esm.evalLine(42), TypeError);
});

test('evalLine: blank → null; every other line → exactly one compact line', () => {
  const { evalLine } = esm;
  assert.equal(evalLine(''), null);
  assert.equal(evalLine('  \t '), null);
  const notJson = assertErrorLine(evalLine('not json'), { code: 'invalid_request' });
  assert.equal(notJson.path, '');
  for (const line of ['{}', '{"op":"nope","policy":{}}', '[]', '"quote"', '{"op":"quote"}']) {
    const out = evalLine(line);
    assert.ok(!out.includes('\n'), 'one line');
    assertErrorLine(out);
  }
});

test('SPEC §2 worked example: ESM, CommonJS and evalLine agree byte for byte', async () => {
  const fromEsm = await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE });
  const fromCjs = await runScenario(cjs, { policy: POLICY, request: WORKED_EXAMPLE });
  assert.deepEqual(fromCjs, fromEsm);
  assertScenario(fromEsm, LIVE);
  // TODO(engine): remove this note once LIVE.quote is true (the assertion above is then strict).
  if (!fromEsm.quote?.ok) console.log(`# quote not live yet: ${fromEsm.quote?.error ?? fromEsm.engine.error}`);
});

test('points are plain numbers, never BigInt', async (t) => {
  const { Engine } = esm;
  let quote;
  try {
    quote = new Engine(POLICY).quote(WORKED_EXAMPLE);
  } catch (e) {
    assert.ok(!LIVE.quote, `the worked example must quote: ${e}`);
    t.todo('the engine does not quote yet');
    return;
  }
  for (const key of ['redeemed_points', 'max_redeemable_points', 'earned_points']) {
    assert.equal(typeof quote[key], 'number', key);
    assert.ok(Number.isSafeInteger(quote[key]), key);
  }
});

test('the web entry (web.js) also works in Node when given the .wasm bytes', async () => {
  const web = await import(pathToFileURL(path.join(PKG, 'web.js')).href);
  // Before init(): a clear error instead of a crash deep in the glue.
  assert.throws(() => web.validate(POLICY), /await init\(\)/);
  const bytes = fs.readFileSync(path.join(PKG, 'wasm', 'loyalty_engine_bg.wasm'));
  await Promise.all([web.default(bytes), web.default(bytes)]);
  const fromWeb = await runScenario(web, { policy: POLICY, request: WORKED_EXAMPLE });
  const fromNode = await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE });
  assert.deepEqual(fromWeb, fromNode);
});

test('the package ships exactly the files package.json lists, and they are what pkg/ holds', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8'));
  const installed = path.join(CONSUMER, 'node_modules', 'loyalty-engine');
  const shipped = execFileSync('tar', ['tzf', path.join(ROOT, 'target', 'npm', 'loyalty-engine.tgz')], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .map((f) => f.replace(/^package\//, ''))
    .sort();
  assert.deepEqual(shipped, [...manifest.files, 'package.json'].sort());
  for (const file of shipped) {
    assert.ok(
      fs.readFileSync(path.join(installed, file)).equals(fs.readFileSync(path.join(PKG, file))),
      `installed ${file} equals pkg/${file}`,
    );
  }
  const cargo = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8');
  assert.equal(manifest.version, /^version\s*=\s*"([^"]+)"/m.exec(cargo)[1], 'the crate version');
  assert.equal(manifest.name, 'loyalty-engine');
});

test('the JSON Schemas ship as loyalty-engine/schema/*.json, identical to schema/', () => {
  const req = createRequire(path.join(CONSUMER, 'package.json'));
  const names = fs.readdirSync(path.join(ROOT, 'schema')).filter((f) => f.endsWith('.json'));
  assert.ok(names.includes('policy.json') && names.length >= 13, names.join());
  for (const name of names) {
    const file = req.resolve(`loyalty-engine/schema/${name}`);
    assert.equal(file, path.join(CONSUMER, 'node_modules', 'loyalty-engine', 'schema', name));
    assert.deepEqual(req(`loyalty-engine/schema/${name}`), JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', name), 'utf8')));
  }
  assert.equal(req('loyalty-engine/schema/policy.json').$schema, 'https://json-schema.org/draft/2020-12/schema');
});

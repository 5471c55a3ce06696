// `loyalty-engine/core`, the core module (validate and quote: what a POS downloads), in Node as
// an application installs it: ESM and CommonJS entry points, the API subset, every quote and
// validate conformance vector byte for byte, and the refusal of the other operations.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { POLICY, WORKED_EXAMPLE } from '../../www/pos/sample-data.js';
import { assertErrorLine } from '../support/checks.js';
import { coreCjs, coreEsm, esm, resolvedRequireCore } from '../support/package.js';
import { CONSUMER, PKG, VECTORS } from '../support/paths.js';
import { runScenario } from '../support/scenario.js';
import { findJson, loadVector, viaObjectApi } from '../support/vectors.js';

const CORE_API = ['Engine', 'LoyaltyError', 'default', 'evalLine', 'init', 'validate'];
const FULL_ONLY_OPS = ['replay', 'progress', 'verify', 'simulate'];

/** The core module's answer to an op it does not have (src/api.rs, `not_in_core`). */
const notInCore = (op) =>
  JSON.stringify({
    error: {
      code: 'invalid_request',
      message:
        `operation ${JSON.stringify(op)} is in the full module (\`loyalty-engine\`), not in the core module ` +
        '(`loyalty-engine/core`), which answers "validate" and "quote"',
      path: 'op',
    },
  });

test('ESM: import init, { Engine, validate, evalLine, LoyaltyError } from "loyalty-engine/core"', async () => {
  assert.deepEqual(Object.keys(coreEsm).sort(), CORE_API);
  assert.equal(coreEsm.default, coreEsm.init);
  assert.equal(await coreEsm.default(), undefined);
});

test('CommonJS: require("loyalty-engine/core") resolves to core/node.cjs', async () => {
  assert.equal(resolvedRequireCore, path.join(CONSUMER, 'node_modules', 'loyalty-engine', 'core', 'node.cjs'));
  assert.deepEqual(Object.keys(coreCjs).sort(), CORE_API);
  assert.equal(await coreCjs.default(), undefined);
});

test('every core entry point exports the same names (core/node.mjs, core/node.cjs, core/web.js)', async () => {
  const web = await import(pathToFileURL(path.join(PKG, 'core', 'web.js')).href);
  assert.deepEqual(Object.keys(web).sort(), CORE_API);
});

test('one instance for ESM and CommonJS; its own Engine, the same LoyaltyError class as the full entry', () => {
  assert.equal(coreEsm.Engine, coreCjs.Engine);
  assert.notEqual(coreEsm.Engine, esm.Engine, 'the core Engine runs on the core module');
  assert.equal(coreEsm.LoyaltyError, esm.LoyaltyError);
  assert.throws(() => new coreCjs.Engine('{'), (e) => e instanceof esm.LoyaltyError && e.code === 'invalid_policy');
});

test('the core Engine quotes and has policyDigest and free, but no replay, progress or verify', () => {
  const engine = new coreEsm.Engine(POLICY);
  const full = new esm.Engine(POLICY);
  assert.equal(engine.policyDigest, full.policyDigest);
  assert.equal(JSON.stringify(engine.quote(WORKED_EXAMPLE)), JSON.stringify(full.quote(WORKED_EXAMPLE)));
  for (const op of ['replay', 'progress', 'verify']) assert.equal(engine[op], undefined, op);
  engine.free();
  full.free();
});

test('the core module is what the POS needs only: a smaller .wasm than the full one', () => {
  const size = (f) => fs.statSync(path.join(PKG, 'wasm', f)).size;
  assert.ok(size('loyalty_engine_core_bg.wasm') < size('loyalty_engine_bg.wasm'));
});

test('SPEC §2 worked example: core ESM, core CommonJS and the full module agree byte for byte', async () => {
  const fromCoreEsm = await runScenario(coreEsm, { policy: POLICY, request: WORKED_EXAMPLE });
  const fromCoreCjs = await runScenario(coreCjs, { policy: POLICY, request: WORKED_EXAMPLE });
  const fromFull = await runScenario(esm, { policy: POLICY, request: WORKED_EXAMPLE });
  assert.deepEqual(fromCoreCjs, fromCoreEsm);
  assert.deepEqual(fromCoreEsm, fromFull);
});

test('core/web.js works in Node too when given the core .wasm bytes', async () => {
  const web = await import(pathToFileURL(path.join(PKG, 'core', 'web.js')).href);
  assert.throws(() => web.validate(POLICY), /await init\(\)/);
  await web.default(fs.readFileSync(path.join(PKG, 'wasm', 'loyalty_engine_core_bg.wasm')));
  assert.deepEqual(
    await runScenario(web, { policy: POLICY, request: WORKED_EXAMPLE }),
    await runScenario(coreEsm, { policy: POLICY, request: WORKED_EXAMPLE }),
  );
});

test('evalLine: other operations are invalid_request at `op`, naming the full module', () => {
  for (const api of [coreEsm, coreCjs]) {
    for (const op of FULL_ONLY_OPS) {
      const line = api.evalLine(JSON.stringify({ op, policy: POLICY, member: WORKED_EXAMPLE.member }));
      assert.equal(line, notInCore(op));
      assert.equal(assertErrorLine(line, { code: 'invalid_request' }).path, 'op');
    }
    // An unknown op and a blank line: the same answers as the full module's.
    for (const line of ['{"op":"nope","policy":{}}', '{"op":5}', '{}', 'not json', '']) {
      assert.equal(api.evalLine(line), esm.evalLine(line), line);
    }
  }
});

// Every quote and validate vector, through both core entry points: evalLine and the object API.
const files = ['quote', 'validate'].flatMap((dir) => findJson(path.join(VECTORS, dir)));
test(`core vectors: ${files.length} quote and validate vectors`, () => {
  assert.ok(files.length >= 20, `found ${files.length}`);
});
for (const file of files) {
  const name = path.relative(VECTORS, file);
  test(`core: ${name}`, async (t) => {
    const vector = loadVector(file);
    const expected = JSON.stringify(vector.expected);
    for (const [entry, api] of [
      ['ESM', coreEsm],
      ['CommonJS', coreCjs],
    ]) {
      await t.test(`${entry}: evalLine(request) is the expected line`, () => {
        assert.equal(api.evalLine(JSON.stringify(vector.request)), expected, vector.description);
      });
      await t.test(`${entry}: the object API gives the same JSON`, (st) => {
        const got = viaObjectApi(api, vector.request);
        if (got === null) {
          st.skip(`no object-API form for this request`);
          return;
        }
        assert.equal(got, expected, vector.description);
      });
    }
  });
}

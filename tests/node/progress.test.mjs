// `loyalty-engine/progress`, the progress module (validate and progress: what the storefront
// widget `<loyalty-progress>` downloads), in Node as an application installs it: ESM and
// CommonJS entry points, the API subset, every progress and validate conformance vector byte for
// byte (evalLine and the object API), and the refusal of the other operations.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { POLICY } from '../../www/pos/sample-data.js';
import { parseNdjson } from '../../www/shared/sample.js';
import { assertErrorLine } from '../support/checks.js';
import { coreEsm, esm, progressCjs, progressEsm, resolvedRequireProgress } from '../support/package.js';
import { CONSUMER, PKG, VECTORS } from '../support/paths.js';
import { findJson, loadVector, viaObjectApi } from '../support/vectors.js';

const PROGRESS_API = ['Engine', 'LoyaltyError', 'default', 'evalLine', 'init', 'validate'];
const NOT_HERE = ['quote', 'replay', 'verify', 'simulate'];

/** The progress module's answer to an op it does not have (src/api.rs, `not_in_module`). */
const notInProgress = (op) =>
  JSON.stringify({
    error: {
      code: 'invalid_request',
      message:
        `operation ${JSON.stringify(op)} is not in the progress module (\`loyalty-engine/progress\`), which answers ` +
        '"validate" and "progress"; the full module (`loyalty-engine`) answers every operation',
      path: 'op',
    },
  });

const progressVectors = findJson(path.join(VECTORS, 'progress'));
const first = loadVector(progressVectors[0]);

test('ESM: import init, { Engine, validate, evalLine, LoyaltyError } from "loyalty-engine/progress"', async () => {
  assert.deepEqual(Object.keys(progressEsm).sort(), PROGRESS_API);
  assert.equal(progressEsm.default, progressEsm.init);
  assert.equal(await progressEsm.default(), undefined);
});

test('CommonJS: require("loyalty-engine/progress") resolves to progress/node.cjs', async () => {
  assert.equal(resolvedRequireProgress, path.join(CONSUMER, 'node_modules', 'loyalty-engine', 'progress', 'node.cjs'));
  assert.deepEqual(Object.keys(progressCjs).sort(), PROGRESS_API);
  assert.equal(await progressCjs.default(), undefined);
});

test('every progress entry point exports the same names (progress/node.mjs, progress/node.cjs, progress/web.js)', async () => {
  const web = await import(pathToFileURL(path.join(PKG, 'progress', 'web.js')).href);
  assert.deepEqual(Object.keys(web).sort(), PROGRESS_API);
});

test('one instance for ESM and CommonJS; its own Engine, the same LoyaltyError class as the other entries', () => {
  assert.equal(progressEsm.Engine, progressCjs.Engine);
  assert.notEqual(progressEsm.Engine, esm.Engine, 'the progress Engine runs on the progress module');
  assert.notEqual(progressEsm.Engine, coreEsm.Engine);
  assert.equal(progressEsm.LoyaltyError, esm.LoyaltyError);
  assert.throws(() => new progressCjs.Engine('{'), (e) => e instanceof esm.LoyaltyError && e.code === 'invalid_policy');
});

test('the progress Engine has progress, policyDigest and free, but no quote, replay or verify', () => {
  const { op, policy, ...request } = first.request;
  assert.equal(op, 'progress');
  const engine = new progressEsm.Engine(policy);
  const full = new esm.Engine(policy);
  assert.equal(engine.policyDigest, full.policyDigest);
  assert.equal(JSON.stringify(engine.progress(request)), JSON.stringify(full.progress(request)));
  assert.equal(JSON.stringify(engine.progress(request)), JSON.stringify(first.expected));
  for (const method of ['quote', 'replay', 'verify']) assert.equal(engine[method], undefined, method);
  engine.free();
  full.free();
});

test('the progress module is smaller than the full one', () => {
  const size = (f) => fs.statSync(path.join(PKG, 'wasm', f)).size;
  assert.ok(size('loyalty_engine_progress_bg.wasm') < size('loyalty_engine_bg.wasm'));
});

test('progress/web.js works in Node too when given the progress .wasm bytes', async () => {
  const web = await import(pathToFileURL(path.join(PKG, 'progress', 'web.js')).href);
  assert.throws(() => web.validate(first.request.policy), /await init\(\)/);
  await web.default(fs.readFileSync(path.join(PKG, 'wasm', 'loyalty_engine_progress_bg.wasm')));
  assert.equal(web.evalLine(JSON.stringify(first.request)), JSON.stringify(first.expected));
});

test('evalLine: other operations are invalid_request at `op`, naming the full module', () => {
  for (const api of [progressEsm, progressCjs]) {
    for (const op of NOT_HERE) {
      const line = api.evalLine(JSON.stringify({ op, policy: first.request.policy, member: first.request.member }));
      assert.equal(line, notInProgress(op));
      assert.equal(assertErrorLine(line, { code: 'invalid_request' }).path, 'op');
    }
    // An unknown op and a blank line: the same answers as the full module's.
    for (const line of ['{"op":"nope","policy":{}}', '{"op":5}', '{}', 'not json', '']) {
      assert.equal(api.evalLine(line), esm.evalLine(line), line);
    }
  }
});

test('long generated histories (over 32 events, over 128 orders): the progress module answers as the full module', () => {
  // The small modules keep event and order ids in a sorted list (src/ids.rs, IdIndex) where the
  // full module hashes them, and sort through src/sort.rs: past 32 events and 128 orders both
  // paths run.
  const histories = parseNdjson(esm.generate({ members: 30, seed: 7, months: 60, profile: 'vn-fashion' }));
  const purchases = (h) => h.events.filter((e) => e.type === 'purchase').length;
  assert.ok(histories.filter((h) => purchases(h) > 128).length >= 2, 'some members have over 128 orders');
  const answer = (api, request) => {
    const engine = new api.Engine(POLICY);
    try {
      return JSON.stringify(engine.progress(request));
    } catch (e) {
      if (!(e instanceof api.LoyaltyError)) throw e;
      return JSON.stringify(e);
    } finally {
      engine.free();
    }
  };
  let compared = 0;
  for (const h of histories) {
    for (const as_of of ['2024-03-01T00:00:00+07:00', '2026-10-01T00:00:00+07:00', '2027-02-15T12:00:00+07:00']) {
      const request = { ...h, as_of };
      const full = answer(esm, request);
      assert.equal(answer(progressEsm, request), full, `${h.member.id} at ${as_of}`);
      compared += full.startsWith('{"error"') ? 0 : 1;
    }
  }
  assert.ok(compared >= 60, `only ${compared} answers were not errors`);
  // A repeated event id past the first 32 events: found in the sorted list as in the hash set.
  const long = histories.find((h) => h.events.length > 100);
  const events = long.events.map((e, i) => (i === 90 ? { ...e, id: long.events[40].id } : e));
  const repeated = answer(progressEsm, { ...long, events, as_of: '2026-10-01T00:00:00+07:00' });
  assert.equal(repeated, answer(esm, { ...long, events, as_of: '2026-10-01T00:00:00+07:00' }));
  assert.equal(JSON.parse(repeated).error.code, 'duplicate_event_id');
  assert.equal(JSON.parse(repeated).error.path, 'events[90].id');
});

// Every progress and validate vector, through both entry points: evalLine and the object API
// (the widget's `new Engine(policy).progress(request)`).
const files = ['progress', 'validate'].flatMap((dir) => findJson(path.join(VECTORS, dir)));
test(`progress vectors: ${files.length} progress and validate vectors`, () => {
  assert.ok(progressVectors.length >= 16, `found ${progressVectors.length} progress vectors`);
});
for (const file of files) {
  const name = path.relative(VECTORS, file);
  test(`progress: ${name}`, async (t) => {
    const vector = loadVector(file);
    const expected = JSON.stringify(vector.expected);
    for (const [entry, api] of [
      ['ESM', progressEsm],
      ['CommonJS', progressCjs],
    ]) {
      await t.test(`${entry}: evalLine(request) is the expected line`, () => {
        assert.equal(api.evalLine(JSON.stringify(vector.request)), expected, vector.description);
      });
      await t.test(`${entry}: the object API gives the same JSON`, (st) => {
        const got = viaObjectApi(api, vector.request);
        if (got === null) {
          st.skip('no object-API form for this request (policy versions)');
          return;
        }
        assert.equal(got, expected, vector.description);
      });
    }
  });
}

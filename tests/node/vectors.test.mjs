// Conformance vectors (SPEC §6) against the built package in Node.
//
// Every *.json file under tests/vectors/ (any depth) is one vector:
//   {"description": "...", "request": {"op": ..., "policy": ..., ...}, "expected": {...}}
// (plus optional "notes": ["..."], the hand computation)
// and must hold, byte for byte:
//   (a) evalLine(JSON.stringify(request)) === JSON.stringify(expected)   (the CLI contract)
//   (b) the object API gives the same JSON: op quote/replay/progress/verify →
//       new Engine(policy)[op](rest), op validate → validate(policy) (a thrown LoyaltyError is compared as JSON.stringify(err);
//       the engine reports policy errors at `policy.…` paths in both APIs).
// No tests/vectors/ directory at all: passes, saying "0 vectors". A directory without vectors,
// or a file that is not a vector, fails.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { esm as api } from '../support/package.js';
import { ROOT, VECTORS } from '../support/paths.js';

function findJson(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return findJson(full);
      return entry.isFile() && entry.name.endsWith('.json') ? [full] : [];
    });
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses and checks one vector file; throws with the file's name on anything malformed. */
function loadVector(file) {
  const name = path.relative(ROOT, file);
  let vector;
  try {
    vector = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${name}: not valid JSON: ${e.message}`);
  }
  assert.ok(isObject(vector), `${name}: a vector is a JSON object`);
  for (const key of ['description', 'request', 'expected']) assert.ok(key in vector, `${name}: has "${key}"`);
  const extra = Object.keys(vector).filter((k) => !['description', 'notes', 'request', 'expected'].includes(k));
  assert.deepEqual(extra, [], `${name}: only description, notes, request, expected`);
  if ('notes' in vector) {
    assert.ok(
      Array.isArray(vector.notes) && vector.notes.every((n) => typeof n === 'string'),
      `${name}: notes is an array of strings`,
    );
  }
  assert.equal(typeof vector.description, 'string', `${name}: description is a string`);
  assert.ok(vector.description.trim(), `${name}: description is not empty`);
  assert.ok(isObject(vector.request), `${name}: request is an object`);
  assert.ok(isObject(vector.expected), `${name}: expected is an object`);
  return vector;
}

/** The object API's answer for a request, as the JSON text the CLI would print; null if n/a. */
function viaObjectApi(request) {
  const { op, policy, ...rest } = request;
  const policyApplies = isObject(policy);
  const asLine = (run) => {
    try {
      return JSON.stringify(run());
    } catch (e) {
      if (!(e instanceof api.LoyaltyError)) throw e;
      return JSON.stringify(e);
    }
  };
  if (op === 'validate' && policyApplies && Object.keys(rest).length === 0) {
    return asLine(() => api.validate(policy));
  }
  if (op === 'simulate') {
    return typeof api.simulate === 'function' ? asLine(() => api.simulate({ policy, ...rest })) : null;
  }
  if (['quote', 'replay', 'progress', 'verify'].includes(op) && policyApplies) {
    if (typeof api.Engine.prototype[op] !== 'function') return null;
    let engine;
    const constructed = asLine(() => {
      engine = new api.Engine(policy);
      return null;
    });
    if (!engine) return constructed;
    try {
      return asLine(() => engine[op](rest));
    } finally {
      engine.free();
    }
  }
  return null;
}

if (!fs.existsSync(VECTORS)) {
  test('conformance vectors: 0 vectors (tests/vectors/ does not exist yet)', () => {
    console.log('# 0 vectors: tests/vectors/ does not exist yet');
  });
} else {
  const files = findJson(VECTORS);
  test(`conformance vectors: ${files.length} file(s) under tests/vectors/`, () => {
    assert.ok(files.length > 0, 'tests/vectors/ exists but holds no *.json vector');
  });
  for (const file of files) {
    const name = path.relative(VECTORS, file);
    test(name, async (t) => {
      const vector = loadVector(file);
      const expected = JSON.stringify(vector.expected);
      await t.test('(a) evalLine(request) is the expected line', () => {
        assert.equal(api.evalLine(JSON.stringify(vector.request)), expected, vector.description);
      });
      await t.test('(b) the object API gives the same JSON', (st) => {
        const got = viaObjectApi(vector.request);
        if (got === null) {
          st.skip(`no object-API form for op ${JSON.stringify(vector.request.op)} (yet)`);
          return;
        }
        assert.equal(got, expected, vector.description);
      });
    });
  }
}

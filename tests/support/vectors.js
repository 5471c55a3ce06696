// The conformance vectors (tests/vectors/) for the Node tests: finding them, checking each file,
// and the object API's answer for a request. Used by tests/node/vectors.test.mjs (the full
// module) and tests/node/core.test.mjs (the core module, `loyalty-engine/core`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { ROOT } from './paths.js';

/** Every *.json under `dir` (any depth), sorted by name. */
export function findJson(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return findJson(full);
      return entry.isFile() && entry.name.endsWith('.json') ? [full] : [];
    });
}

export const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses and checks one vector file; throws with the file's name on anything malformed. */
export function loadVector(file) {
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

/**
 * The object API's answer for a request, as the JSON text the CLI would print; null if the API
 * (`api`: an entry point's exports) has no object form for it.
 */
export function viaObjectApi(api, request) {
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

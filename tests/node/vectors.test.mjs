// Conformance vectors (SPEC §6) against the built package in Node.
//
// Every *.json file under tests/vectors/ (any depth) is one vector:
//   {"description": "...", "request": {"op": ..., "policy": ..., ...}, "expected": {...}}
// (plus optional "notes": ["..."], the hand computation)
// and must hold, byte for byte:
//   (a) evalLine(JSON.stringify(request)) === JSON.stringify(expected)   (the CLI contract)
//   (b) the object API gives the same JSON: op quote/replay/progress/verify →
//       new Engine(policy)[op](rest), op validate → validate(policy) (a thrown LoyaltyError is compared as JSON.stringify(err);
//       the engine reports policy errors at `policy.…` paths in both APIs);
//   (c) op simulate with members and an answer that is not an error: the streaming forms give
//       it too — `Simulation` fed the members as objects one `add` at a time, and
//       `ParallelSimulation` (2 workers) fed them as NDJSON chunks of two lines.
// No tests/vectors/ directory at all: passes, saying "0 vectors". A directory without vectors,
// or a file that is not a vector, fails.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { esm as api } from '../support/package.js';
import { VECTORS } from '../support/paths.js';
import { findJson, loadVector, viaObjectApi } from '../support/vectors.js';

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
        const got = viaObjectApi(api, vector.request);
        if (got === null) {
          st.skip(`no object-API form for op ${JSON.stringify(vector.request.op)} (yet)`);
          return;
        }
        assert.equal(got, expected, vector.description);
      });
      const { op, members, ...setup } = vector.request;
      if (op === 'simulate' && Array.isArray(members) && !('error' in vector.expected)) {
        await t.test('(c) Simulation and ParallelSimulation give the same JSON', async () => {
          const single = new api.Simulation(setup);
          for (const m of members) single.add([m]);
          assert.equal(JSON.stringify(single.finish()), expected, vector.description);
          const parallel = new api.ParallelSimulation(setup, { workers: 2 });
          for (let i = 0; i < members.length; i += 2) {
            await parallel.add(members.slice(i, i + 2).map((m) => JSON.stringify(m)).join('\n'));
          }
          assert.equal(JSON.stringify(await parallel.finish()), expected, vector.description);
        });
      }
    });
  }
}

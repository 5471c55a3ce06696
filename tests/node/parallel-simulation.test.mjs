// ParallelSimulation (issue 4, Node): the package's simulation on worker threads gives exactly
// the report `simulate` gives — byte for byte, whatever the worker count and chunking — with
// rejected members (unreadable lines, faults under the draft, faults under the baseline only)
// numbered as in a single run; errors are LoyaltyErrors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { cjs, esm as api } from '../support/package.js';
import { ROOT } from '../support/paths.js';

const AS_OF = '2026-10-01T00:00:00+07:00';
const policy = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'docs', 'examples', `${name}.json`), 'utf8'));
const draft = policy('vn-fashion-draft');
const baseline = policy('vn-fashion-baseline');
// Without the level `silver`: members whose history sets `silver` fail under this baseline only.
const baselineNoSilver = JSON.parse(JSON.stringify(baseline).replaceAll('"silver"', '"silver-2"'));

// Generated members plus some that are rejected: not an object, not JSON, an invalid member.
const generated = api.generate({ members: 230, seed: 42, months: 12, profile: 'vn-fashion' }).trimEnd().split('\n');
const lines = [...generated];
lines.splice(3, 0, '17');
lines.splice(50, 0, '{"member":');
lines.splice(101, 0, '{"member":{"id":"bad"},"events":[]}');
const N = lines.length;

async function parallel(request, { workers, chunk, objects = false }) {
  const sim = new api.ParallelSimulation(request, { workers });
  for (let i = 0; i < N; i += chunk) {
    const part = lines.slice(i, i + chunk);
    await sim.add(objects ? part.map((l) => (l.startsWith('{"member":{') ? JSON.parse(l) : l)) : part.join('\n'));
  }
  const report = await sim.finish();
  assert.equal(sim.progress, N);
  return JSON.stringify(report);
}

for (const [name, base] of [['no baseline', null], ['baseline', baseline], ['baseline without silver', baselineNoSilver]]) {
  const request = { policy: draft, baseline: base, as_of: AS_OF, expected_redemption: '0.7' };
  test(`ParallelSimulation = Simulation (${name}), 1–3 workers, uneven chunks`, async () => {
    // The single-threaded streaming run is the reference (`simulate` with the same lines).
    const single = new api.Simulation(request);
    for (let i = 0; i < N; i += 40) single.add(lines.slice(i, i + 40).join('\n'));
    const want = JSON.stringify(single.finish());
    const report = JSON.parse(want);
    assert.equal(report.members + report.rejected.length, N);
    const paths = report.rejected.map((r) => r.error.path.split('.')[0]);
    for (const p of ['members[3]', 'members[50]', 'members[101]']) assert.ok(paths.includes(p), want);
    if (base === baselineNoSilver) assert.ok(report.rejected.some((r) => r.error.message.startsWith('baseline: ')), want);
    for (const workers of [1, 2, 3]) {
      for (const chunk of [1 + workers * 10, 97]) {
        assert.equal(await parallel(request, { workers, chunk }), want, `${workers} workers, chunks of ${chunk}`);
      }
    }
    // Objects and text alike; the default worker count.
    assert.equal(await parallel(request, { chunk: 64, objects: true }), want);
  });
}

test('ParallelSimulation = simulate, and un-awaited adds keep their order', async () => {
  const members = generated.slice(0, 120).map((l) => JSON.parse(l));
  const request = { policy: draft, baseline, as_of: AS_OF };
  const want = JSON.stringify(api.simulate({ ...request, members }));
  const sim = new api.ParallelSimulation(JSON.stringify(request), { workers: 2, maxPending: 1 });
  const adds = [];
  for (let i = 0; i < members.length; i += 7) adds.push(sim.add(members.slice(i, i + 7)));
  const report = await sim.finish();
  await Promise.all(adds);
  assert.equal(JSON.stringify(report), want);
  // Members inside the request are numbered first; blank lines are not members.
  const inline = new cjs.ParallelSimulation({ ...request, members: members.slice(0, 10) }, { workers: 2 });
  assert.equal(inline.progress, 10);
  await inline.add(`\n${generated.slice(10, 60).join('\n\n')}\n \n`);
  await inline.add([]);
  await inline.add(members.slice(60, 120));
  assert.equal(JSON.stringify(await inline.finish()), want);
});

test('ParallelSimulation counts NDJSON lines as the engine does (blank = ASCII whitespace only)', async () => {
  // Blank (skipped, numbered): '', '\r', '\t', ' '. Not blank: U+0085, U+3000, U+FEFF (members
  // that are not JSON: rejected at their line's index).
  const text = [generated[0], '\r', '\u0085 ', '\u3000', '\ufeff', `${generated[1]}\r`, '\t', generated[2]].join('\n');
  const request = { policy: draft, baseline, as_of: AS_OF };
  const single = new api.Simulation(request);
  single.add(text);
  single.add(`${text}\n`);
  assert.equal(single.progress, 12);
  const want = JSON.stringify(single.finish());
  const paths = JSON.parse(want).rejected.map((r) => r.error.path);
  assert.deepEqual(paths, ['members[2]', 'members[3]', 'members[4]', 'members[10]', 'members[11]', 'members[12]']);
  const sim = new api.ParallelSimulation(request, { workers: 2 });
  await sim.add(text);
  await sim.add(`${text}\n`);
  assert.equal(JSON.stringify(await sim.finish()), want);
});

test('ParallelSimulation errors are LoyaltyErrors', async () => {
  assert.throws(
    () => new api.ParallelSimulation({ policy: { schema: 2 }, as_of: AS_OF }),
    (e) => e instanceof api.LoyaltyError && e.path.startsWith('policy'),
  );
  assert.throws(
    () => new api.ParallelSimulation({ policy: draft, baseline: { schema: 1 }, as_of: AS_OF }),
    (e) => e instanceof api.LoyaltyError && e.path.startsWith('baseline'),
  );
  assert.throws(
    () => new api.ParallelSimulation({ policy: draft, as_of: 'yesterday' }),
    (e) => e instanceof api.LoyaltyError && e.code === 'invalid_request' && e.path === 'as_of',
  );
  for (const workers of [0, 1.5, 'two']) {
    assert.throws(
      () => new api.ParallelSimulation({ policy: draft, as_of: AS_OF }, { workers }),
      (e) => e instanceof api.LoyaltyError && e.path === 'workers',
    );
  }
  const sim = new api.ParallelSimulation({ policy: draft, as_of: AS_OF }, { workers: 2 });
  await assert.rejects(sim.add([undefined]), (e) => e instanceof api.LoyaltyError && e.code === 'invalid_request');
  await sim.add(generated.slice(0, 5).join('\n'));
  const report = await sim.finish();
  assert.equal(report.members, 5);
  await assert.rejects(sim.add(generated[0]), (e) => e instanceof api.LoyaltyError && /already finished/.test(e.message));
  await assert.rejects(sim.finish(), (e) => e instanceof api.LoyaltyError);

  // A simulation given up: its workers end, later calls reject.
  const gone = new api.ParallelSimulation({ policy: draft, as_of: AS_OF }, { workers: 2 });
  await gone.add(generated.slice(0, 5).join('\n'));
  gone.terminate();
  await assert.rejects(gone.finish(), /terminated/);
});

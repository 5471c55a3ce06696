// Simulate and generate through the package (issue 4): `generate` writes exactly what
// `loyalty generate` writes for the same options, and the streaming `Simulation` gives the same
// report as `simulate` and as `loyalty simulate` on the same members.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { esm as api } from '../support/package.js';
import { CLI, ROOT } from '../support/paths.js';

const AS_OF = '2026-10-01T00:00:00+02:00';
const example = (name) => path.join(ROOT, 'docs', 'examples', `${name}.json`);
const policy = (name) => JSON.parse(fs.readFileSync(example(name), 'utf8'));

function cli(args) {
  const r = spawnSync(CLI, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `loyalty ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

for (const [profile, seed, months] of [
  ['sk-grocery', 7, 6],
  ['vn-fashion', 123456789, 14],
]) {
  test(`generate(${profile}, seed ${seed}) equals loyalty generate`, () => {
    const opts = { members: 150, seed, months, profile };
    const text = api.generate(opts);
    const native = cli(['generate', '--members', '150', '--seed', String(seed), '--months', String(months), '--profile', profile]);
    assert.equal(text, native);
    assert.equal(text.split('\n').length, 151);
  });
}

test('Simulation (chunks) = simulate = loyalty simulate', () => {
  const ndjson = api.generate({ members: 200, seed: 5, months: 8, profile: 'sk-grocery' });
  const lines = ndjson.trimEnd().split('\n');
  const request = {
    policy: policy('sk-grocery-draft'),
    baseline: policy('sk-grocery-baseline'),
    as_of: AS_OF,
    expected_redemption: '0.7',
  };
  const whole = api.simulate({ ...request, members: lines.map((l) => JSON.parse(l)) });
  assert.equal(whole.members, 200);
  assert.deepEqual(whole.rejected, []);

  const sim = new api.Simulation(request);
  sim.add(lines.slice(0, 50).map((l) => JSON.parse(l))); // objects
  sim.add(lines.slice(50, 120).join('\n')); // NDJSON text
  sim.add(lines.slice(120).join('\n') + '\n');
  assert.equal(sim.progress, 200);
  const streamed = sim.finish();
  assert.equal(JSON.stringify(streamed), JSON.stringify(whole));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-sim-'));
  const file = path.join(dir, 'members.ndjson');
  fs.writeFileSync(file, ndjson);
  const native = cli([
    'simulate', '--policy', example('sk-grocery-draft'), '--baseline', example('sk-grocery-baseline'),
    '--members', file, '--as-of', AS_OF, '--expected-redemption', '0.7', '--threads', '2',
  ]);
  assert.equal(native.trimEnd(), JSON.stringify(whole));
});

test('blank lines keep their number: Simulation, ParallelSimulation and loyalty simulate agree', async () => {
  const good = api.generate({ members: 40, seed: 9, months: 6, profile: 'vn-fashion' }).trimEnd().split('\n');
  // Blank lines ('', spaces, tab, CR) and lines that are not members ('17', a cut line, U+3000).
  const lines = [...good];
  lines.splice(0, 0, '');
  lines.splice(5, 0, '  ', '17', '\t');
  lines.splice(20, 0, '{"member":', '\r', '', '');
  lines.splice(30, 0, '\u3000');
  const file = `${lines.join('\n')}\n`;
  const bad = lines.flatMap((l, i) => (['17', '{"member":', '\u3000'].includes(l) ? [`members[${i}]`] : []));
  const request = {
    policy: policy('vn-fashion-draft'),
    baseline: policy('vn-fashion-baseline'),
    as_of: '2026-10-01T00:00:00+07:00',
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loyalty-sim-'));
  fs.writeFileSync(path.join(dir, 'members.ndjson'), file);
  const native = cli([
    'simulate', '--policy', example('vn-fashion-draft'), '--baseline', example('vn-fashion-baseline'),
    '--members', path.join(dir, 'members.ndjson'), '--as-of', request.as_of, '--threads', '2',
  ]).trimEnd();
  const report = JSON.parse(native);
  assert.deepEqual(report.rejected.map((r) => r.error.path.replace(/\].*/, ']')), bad);
  assert.equal(report.members, 40);
  // The same file cut into chunks at line ends (a chunk may start or end with blank lines).
  const cuts = [0, 1, 6, 7, 22, 23, 31, lines.length];
  const chunks = cuts.slice(1).map((c, k) => `${lines.slice(cuts[k], c).join('\n')}\n`);
  const single = new api.Simulation(request);
  for (const c of chunks) single.add(c);
  assert.equal(JSON.stringify(single.finish()), native);
  const parallel = new api.ParallelSimulation(request, { workers: 2 });
  for (const c of chunks) await parallel.add(c);
  assert.equal(JSON.stringify(await parallel.finish()), native);
});

test('Simulation rejects a bad policy with a LoyaltyError', () => {
  assert.throws(
    () => new api.Simulation({ policy: { schema: 2 }, as_of: AS_OF }),
    (e) => e instanceof api.LoyaltyError && e.path.startsWith('policy'),
  );
});

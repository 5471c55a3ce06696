// Node half of scripts/bench-simulate.sh: streams the first N member lines of an NDJSON file
// into the package (chunks of 1,000 lines, as a Web Worker would post them) and prints seconds,
// events/s, members/s and the largest RSS seen, for
//   - `Simulation` (single-threaded, on the main thread) and
//   - `ParallelSimulation` with WORKERS worker threads (default 2),
// each in a fresh Node process, and checks that both reports are identical.
//
//   node scripts/bench-simulate-node.mjs DATA.ndjson N DRAFT.json BASELINE.json|- AS_OF [single|parallel|both]
//   env: WORKERS (default 2), CHUNK (default 1000), PKG (default pkg/: the built package)
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [data, n, draftFile, baselineFile, asOf, mode = 'both'] = process.argv.slice(2);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const workers = Number(process.env.WORKERS ?? 2);
const chunk = Number(process.env.CHUNK ?? 1000);

if (mode === 'both') {
  // One process a run: each starts cold and has its own peak RSS.
  const digests = [];
  for (const m of ['single', 'parallel']) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), data, n, draftFile, baselineFile, asOf, m], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    process.stdout.write(r.stdout.replace(/^digest .*\n/m, ''));
    if (r.status !== 0) process.exit(r.status ?? 1);
    digests.push(/^digest (.*)$/m.exec(r.stdout)?.[1]);
  }
  console.log(digests[0] === digests[1] ? '    reports identical' : `    REPORTS DIFFER: ${digests.join(' ')}`);
  process.exit(digests[0] === digests[1] ? 0 : 1);
}

const pkg = path.resolve(process.env.PKG ?? path.join(root, 'pkg'));
const { Simulation, ParallelSimulation } = await import(pathToFileURL(path.join(pkg, 'node.mjs')).href);
const limit = Number(n);
const policy = JSON.parse(fs.readFileSync(draftFile, 'utf8'));
const baseline = baselineFile === '-' ? null : JSON.parse(fs.readFileSync(baselineFile, 'utf8'));
let maxRss = process.memoryUsage().rss;
const sample = () => {
  maxRss = Math.max(maxRss, process.memoryUsage().rss);
};

// Read the lines first so the timing is the engine's, not the disk's.
const lines = [];
let events = 0;
const rl = readline.createInterface({ input: fs.createReadStream(data), crlfDelay: Infinity });
for await (const line of rl) {
  if (lines.length >= limit) break;
  lines.push(line);
  events += line.split(',"type":"').length - 1;
}
rl.close();
sample();
const timer = setInterval(sample, 50);

const request = { policy, baseline, as_of: asOf, expected_redemption: '0.7' };
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let report;
let label;
if (mode === 'single') {
  label = 'Simulation';
  const sim = new Simulation(request);
  for (let i = 0; i < lines.length; i += chunk) {
    sim.add(lines.slice(i, i + chunk).join('\n'));
    sample();
  }
  report = sim.finish();
} else {
  label = `ParallelSimulation, ${workers} workers`;
  const sim = new ParallelSimulation(request, { workers });
  for (let i = 0; i < lines.length; i += chunk) {
    await sim.add(lines.slice(i, i + chunk).join('\n'));
    sample();
  }
  report = await sim.finish();
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(cpu0);
clearInterval(timer);
sample();
console.log(
  `    node ${label}: ${report.members + report.rejected.length} members, ${events} events in ${secs.toFixed(2)} s ` +
    `(CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, all threads): ` +
    `${Math.round(events / secs)} events/s, ${Math.round(lines.length / secs)} members/s; ` +
    `max RSS ${(maxRss / 1048576).toFixed(1)} MB (includes the ${lines.length} lines held in memory)`,
);
console.log(`digest ${crypto.createHash('sha256').update(JSON.stringify(report)).digest('hex')}`);

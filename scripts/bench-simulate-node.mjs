// Node half of scripts/bench-simulate.sh: streams the first N member lines of an NDJSON file
// into the package's `Simulation` (chunks of 1,000 lines, as a Web Worker would post them),
// and prints members/s, events/s and the largest RSS seen.
//
//   node scripts/bench-simulate-node.mjs DATA.ndjson N DRAFT.json BASELINE.json|- AS_OF
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [data, n, draftFile, baselineFile, asOf] = process.argv.slice(2);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Simulation } = await import(pathToFileURL(path.join(root, 'pkg', 'node.mjs')).href);

const limit = Number(n);
const policy = JSON.parse(fs.readFileSync(draftFile, 'utf8'));
const baseline = baselineFile === '-' ? null : JSON.parse(fs.readFileSync(baselineFile, 'utf8'));
let maxRss = process.memoryUsage().rss;
const sample = () => { maxRss = Math.max(maxRss, process.memoryUsage().rss); };

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

const t0 = process.hrtime.bigint();
const sim = new Simulation({ policy, baseline, as_of: asOf, expected_redemption: '0.7' });
for (let i = 0; i < lines.length; i += 1000) {
  sim.add(lines.slice(i, i + 1000).join('\n'));
  sample();
}
const report = sim.finish();
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
sample();
console.log(
  `    node: ${report.members + report.rejected.length} members, ${events} events in ${secs.toFixed(2)} s: ` +
    `${Math.round(events / secs)} events/s, ${Math.round(lines.length / secs)} members/s; ` +
    `max RSS ${(maxRss / 1048576).toFixed(1)} MB (includes the ${lines.length} lines held in memory)`,
);

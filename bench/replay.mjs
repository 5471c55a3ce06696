// Replay benchmark, Node side: `engine.replay(request)` through the built package (pkg/) on
// bench/replay_case.json (one member, 1,000 events over three years). One JSON line.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Engine } = await import(path.join(root, 'pkg', 'node.mjs'));
const c = JSON.parse(readFileSync(path.join(root, 'bench', 'replay_case.json'), 'utf8'));
const engine = new Engine(c.policy);
const events = c.request.events.length;
for (let i = 0; i < 5; i++) engine.replay(c.request);
let n = 0;
const start = process.hrtime.bigint();
let elapsed = 0n;
while (elapsed < 3_000_000_000n) {
  engine.replay(c.request);
  n += 1;
  elapsed = process.hrtime.bigint() - start;
}
const secs = Number(elapsed) / 1e9;
console.log(JSON.stringify({ target: 'node-wasm', case: 'replay_1000_events', replays_per_sec: +(n / secs).toFixed(1), events_per_sec: Math.round((n * events) / secs), ms_per_replay: +((secs * 1e3) / n).toFixed(3) }));

// Quote benchmark, Node side: times `engine.quote(request)` through the built package (pkg/) for
// the cases in bench/quote_cases.json — the same cases `examples/bench_quote.rs` times natively.
// Prints one JSON line per case. Run through scripts/bench-quote.sh, which also prints the ratio.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Engine } = await import(path.join(root, 'pkg', 'node.mjs'));
const cases = JSON.parse(readFileSync(path.join(root, 'bench', 'quote_cases.json'), 'utf8'));

for (const [name, c] of Object.entries(cases)) {
  const engine = new Engine(c.policy);
  const first = engine.quote(c.request);
  if (!first.digest) throw new Error(`${name}: no quote`);
  for (let i = 0; i < 1000; i++) engine.quote(c.request);
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < 2_000_000_000n) {
    for (let i = 0; i < 100; i++) engine.quote(c.request);
    n += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  const secs = Number(elapsed) / 1e9;
  console.log(JSON.stringify({ target: 'node-wasm', case: name, ops_per_sec: Math.round(n / secs), us_per_op: +((secs * 1e6) / n).toFixed(2) }));
}

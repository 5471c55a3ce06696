// Quote benchmark, Node side: times `engine.quote(request)` through the built package (pkg/: the
// full module, `loyalty-engine`, and the core one, `loyalty-engine/core`) for the cases in
// bench/quote_cases.json — the same cases `examples/bench_quote.rs` times natively. Prints one
// JSON line per case and module: µs per op by the wall clock and by this process's CPU time
// (`process.cpuUsage`, which other work on a busy machine disturbs far less), and the 1-minute
// load average. Run through scripts/bench-quote.sh, which repeats it and takes medians.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modules = {
  'node-wasm': await import(path.join(root, 'pkg', 'node.mjs')),
  'node-wasm-core': await import(path.join(root, 'pkg', 'core', 'node.mjs')),
};
const cases = JSON.parse(readFileSync(path.join(root, 'bench', 'quote_cases.json'), 'utf8'));
const only = process.argv.slice(2);

for (const [name, c] of Object.entries(cases)) {
  if (only.length && !only.includes(name)) continue;
  for (const [target, { Engine }] of Object.entries(modules)) {
    const engine = new Engine(c.policy);
    const first = engine.quote(c.request);
    if (!first.digest) throw new Error(`${name}: no quote`);
    for (let i = 0; i < 1000; i++) engine.quote(c.request);
    let n = 0;
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < 2_000_000_000n) {
      for (let i = 0; i < 100; i++) engine.quote(c.request);
      n += 100;
      elapsed = process.hrtime.bigint() - start;
    }
    const cpu = process.cpuUsage(cpu0);
    const secs = Number(elapsed) / 1e9;
    console.log(JSON.stringify({
      target, case: name, ops_per_sec: Math.round(n / secs), us_per_op: +((secs * 1e6) / n).toFixed(2),
      cpu_us_per_op: +((cpu.user + cpu.system) / n).toFixed(2), load1: +loadavg()[0].toFixed(2),
    }));
  }
}

// The JS boundary of `quote`, measured both ways (issue 17): JSON text (what the package does:
// `JSON.stringify` in, `RawEngine.call('quote', text)`, `JSON.parse` out) against
// serde-wasm-bindgen (`RawEngine.quoteValue(object)`: the request read from the JS object and the
// response built as JS objects by serde-wasm-bindgen), on the ten_lines_5_rules case, in one
// measurement build of the full module (feature `bench-swb`; scripts/bench-boundary.sh builds it
// into target/swb and runs wasm-bindgen --target nodejs into target/swb-bindgen). Both answers
// are checked equal first. Prints µs per op (CPU time, median of 5 runs) for each and the
// module's size with and without the serde-wasm-bindgen export.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const glue = require(path.join(root, 'target', 'swb-bindgen', 'loyalty_engine.cjs'));
const { policy, request } = JSON.parse(readFileSync(path.join(root, 'bench', 'quote_cases.json'), 'utf8')).ten_lines_5_rules;
const raw = new glue.RawEngine(JSON.stringify(policy));

const viaJson = () => JSON.parse(raw.call('quote', JSON.stringify(request)));
const viaSwb = () => raw.quoteValue(request);
const a = viaJson();
const b = viaSwb();
if (!isDeepStrictEqual(a, b)) throw new Error(`answers differ:\n${JSON.stringify(a)}\n${JSON.stringify(b)}`);
if (JSON.stringify(b) !== raw.call('quote', JSON.stringify(request))) throw new Error('serde-wasm-bindgen answer is not byte-identical once stringified');

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
function bench(name, fn) {
  for (let i = 0; i < 2000; i++) fn();
  const cpu = [];
  for (let run = 0; run < 5; run++) {
    let n = 0;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    while (process.hrtime.bigint() - t0 < 1_000_000_000n) {
      for (let i = 0; i < 100; i++) fn();
      n += 100;
    }
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / n);
  }
  const r = { boundary: name, cpu_us_per_op: +median(cpu).toFixed(2), load1: +loadavg()[0].toFixed(2) };
  console.log(JSON.stringify(r));
  return r;
}
const j = bench('JSON text (JSON.stringify, call, JSON.parse)', viaJson);
const s = bench('serde-wasm-bindgen (quoteValue)', viaSwb);
const size = (f) => statSync(path.join(root, f)).size;
console.log(JSON.stringify({
  swb_over_json: +(s.cpu_us_per_op / j.cpu_us_per_op).toFixed(2),
  wasm_bytes_before_wasm_opt: {
    full: size('target/wasm32-unknown-unknown/wasm-full/loyalty_engine.wasm'),
    full_with_quoteValue: size('target/swb/wasm32-unknown-unknown/wasm-full/loyalty_engine.wasm'),
  },
}));

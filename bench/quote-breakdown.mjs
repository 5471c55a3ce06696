// Where a Node quote goes (issue 17; README "Quote speed"): `engine.quote(request)` through the
// full module on `ten_lines_5_rules`, split by CPU time into `JSON.stringify` of the request,
// `JSON.parse` of the answer's text and the rest — the Wasm call (the request copied in, read,
// priced, the answer written and hashed, copied out). Run by scripts/bench-quote.sh.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Engine } = await import(path.join(root, 'pkg', 'node.mjs'));
const c = JSON.parse(readFileSync(path.join(root, 'bench', 'quote_cases.json'), 'utf8')).ten_lines_5_rules;
const engine = new Engine(c.policy);
const text = JSON.stringify(engine.quote(c.request));
const cpuPerOp = (f) => {
  for (let i = 0; i < 20_000; i++) f();
  const n = 200_000;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / n;
};
for (let run = 0; run < 3; run++) {
  const total = cpuPerOp(() => engine.quote(c.request));
  const stringify = cpuPerOp(() => JSON.stringify(c.request));
  const parse = cpuPerOp(() => JSON.parse(text));
  console.log(JSON.stringify({
    case: 'ten_lines_5_rules', module: 'full', cpu_us_per_op: +total.toFixed(2),
    stringify_request_us: +stringify.toFixed(2), parse_answer_us: +parse.toFixed(2),
    wasm_call_us: +(total - stringify - parse).toFixed(2), answer_bytes: text.length,
    load1: +loadavg()[0].toFixed(2),
  }));
}

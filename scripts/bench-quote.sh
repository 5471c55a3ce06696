#!/usr/bin/env bash
# Quote benchmark (issue 17; results in README.md, "Quote speed"): natively
# (examples/bench_quote.rs) and in Node through the package, full and core module
# (bench/quote.mjs), for the cases of bench/quote_cases.json; then the side-by-side run against
# json-rules-engine (bench/vs-json-rules-engine.mjs) and SHA-256 throughput in Wasm under Node
# (bench/sha256-wasm.mjs). Each timing is repeated RUNS times (default 5) and the median is
# printed with the load average: the machine may be busy, CPU time per op is the steadier figure.
# Needs a built pkg/ (scripts/build.sh). Not a test: numbers vary by machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${RUNS:-5}"
[ -f pkg/node.mjs ] || { echo "pkg/ is missing: run ./scripts/build.sh first" >&2; exit 1; }
[ -d bench/node_modules/json-rules-engine ] || npm ci --prefix bench --no-audit --no-fund
cargo build --release -p loyalty-engine --example bench_quote -q
# The SHA-256 module: its own small crate, built with and without Wasm SIMD.
(cd bench/sha256-wasm &&
  cargo build -q --release --target wasm32-unknown-unknown --target-dir ../../target/sha256-wasm/plain &&
  RUSTFLAGS="-Ctarget-feature=+simd128" cargo build -q --release --target wasm32-unknown-unknown --target-dir ../../target/sha256-wasm/simd)

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((i = 1; i <= RUNS; i++)); do
  echo "run $i/$RUNS (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  target/release/examples/bench_quote | sed "s/}\$/,\"load1\":$(cut -d' ' -f1 /proc/loadavg)}/" >> "$out"
  node bench/quote.mjs >> "$out"
done
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
console.log("median of " + process.argv[2] + " runs; µs per op (CPU time / wall clock), load average during the runs");
console.log("case".padEnd(24) + "native".padStart(18) + "node full".padStart(18) + "node core".padStart(18) + "  core/full  load");
for (const c of [...new Set(lines.map((l) => l.case))]) {
  const cell = (t) => { const r = lines.filter((l) => l.case === c && l.target === t); return r.length ? `${med(r.map((l) => l.cpu_us_per_op)).toFixed(2)} / ${med(r.map((l) => l.us_per_op)).toFixed(2)}` : "-"; };
  const cpu = (t) => med(lines.filter((l) => l.case === c && l.target === t).map((l) => l.cpu_us_per_op));
  const loads = lines.filter((l) => l.case === c).map((l) => l.load1);
  console.log(c.padEnd(24) + cell("native").padStart(18) + cell("node-wasm").padStart(18) + cell("node-wasm-core").padStart(18) + (cpu("node-wasm-core") / cpu("node-wasm")).toFixed(2).padStart(11) + `  ${Math.min(...loads)}–${Math.max(...loads)}`);
}' "$out" "$RUNS"
echo
node bench/vs-json-rules-engine.mjs
echo
node bench/quote-breakdown.mjs
echo
bytes=$(node -e 'const {Engine}=require("./pkg/node.cjs");const c=require("./bench/quote_cases.json").ten_lines_5_rules;const e=new Engine(c.policy);const r=e.quote(c.request);delete r.digest;console.log(JSON.stringify(r).length)')
node bench/sha256-wasm.mjs "$bytes"

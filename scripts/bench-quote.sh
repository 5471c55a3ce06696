#!/usr/bin/env bash
# Quote benchmark: ops/s natively (examples/bench_quote.rs) and in Node through the package
# (bench/quote.mjs), for SPEC §2's example and a 50-line cart with 20 rules, plus the
# Wasm/native ratio. Needs a built pkg/ (scripts/build.sh). Not a test: numbers vary by machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f pkg/node.mjs ] || { echo "pkg/ is missing: run ./scripts/build.sh first" >&2; exit 1; }
cargo build --release --example bench_quote -q
native=$(target/release/examples/bench_quote)
node=$(node bench/quote.mjs)
printf '%s\n%s\n' "$native" "$node"
node -e '
const lines = process.argv[1].trim().split("\n").map(JSON.parse);
const by = (t, c) => lines.find((l) => l.target === t && l.case === c);
console.log("\ncase                       native ops/s   node+wasm ops/s   wasm/native");
for (const c of [...new Set(lines.map((l) => l.case))]) {
  const n = by("native", c), w = by("node-wasm", c);
  console.log(c.padEnd(26), String(n.ops_per_sec).padStart(13), String(w.ops_per_sec).padStart(17), (w.ops_per_sec / n.ops_per_sec).toFixed(2).padStart(13));
}' "$native
$node"

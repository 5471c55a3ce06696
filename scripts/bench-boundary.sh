#!/usr/bin/env bash
# The JS boundary of `quote`, JSON text against serde-wasm-bindgen (issue 17; README, "Quote
# speed"): builds the full module with the measurement feature `bench-swb` (RawEngine.quoteValue)
# into target/swb, runs wasm-bindgen --target nodejs into target/swb-bindgen and
# bench/boundary.mjs. Needs the ordinary full module built too (scripts/build.sh), for the size
# comparison. Not a test; the package itself passes JSON text, which measured faster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build -p loyalty-engine --profile wasm-full --target wasm32-unknown-unknown --lib --features bench-swb --target-dir target/swb
mkdir -p target/swb-bindgen
wasm-bindgen --target nodejs --out-dir target/swb-bindgen --out-name loyalty_engine \
  target/swb/wasm32-unknown-unknown/wasm-full/loyalty_engine.wasm 2> /dev/null
# The root package.json says "type": "module": the CommonJS glue needs the .cjs name.
mv target/swb-bindgen/loyalty_engine.js target/swb-bindgen/loyalty_engine.cjs
node bench/boundary.mjs

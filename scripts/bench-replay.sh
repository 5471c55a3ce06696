#!/usr/bin/env bash
# Replay benchmark: events replayed per second natively and in Node through the package, for
# one member with 1,000 events over three years (bench/replay_case.json, made by
# bench/replay_case.py). Needs a built pkg/ (scripts/build.sh). Not a test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f pkg/node.mjs ] || { echo "pkg/ is missing: run ./scripts/build.sh first" >&2; exit 1; }
cargo build --release --example bench_replay -q
target/release/examples/bench_replay
node bench/replay.mjs

#!/usr/bin/env bash
# Runs every fuzz target once for RUNS executions (default 1,000,000), one after the other,
# niced; logs to fuzz/logs/<target>.log. A crash stops that target and leaves the input in
# fuzz/artifacts/<target>/. See docs/fuzzing.md.
#
#   fuzz/run-all.sh                 # all targets
#   RUNS=100000 fuzz/run-all.sh eval ndjson
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
RUNS="${RUNS:-1000000}"
MAX_TIME="${MAX_TIME:-1800}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(policy eval ndjson replay verify member_line)
[ -d corpus ] || python3 seed.py
mkdir -p logs
for t in "${targets[@]}"; do
  echo "== $t: -runs=$RUNS -max_total_time=$MAX_TIME"
  nice -n 10 cargo +nightly fuzz run "$t" -- -runs="$RUNS" -max_total_time="$MAX_TIME" \
    -dict=loyalty.dict -timeout=10 -print_final_stats=1 > "logs/$t.log" 2>&1
  echo "exit $?: $(grep -E '^stat::number_of_executed_units' "logs/$t.log") $(grep -cE 'ERROR: libFuzzer|deadly signal|panicked' "logs/$t.log") crash line(s)"
done

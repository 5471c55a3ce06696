#!/usr/bin/env bash
# Simulation benchmark (not a test): generates member histories, then times
#   - the native CLI: loyalty simulate --threads $THREADS (peak memory from /usr/bin/time -v)
#   - Node through the npm package (pkg/): the streaming Simulation class and ParallelSimulation
#     on $THREADS worker threads, max RSS sampled
# and prints events/s and peak memory for each. Results are recorded in docs/simulate.md.
#
#   scripts/bench-simulate.sh                      # 1,000,000 members native, 100,000 in Node
#   MEMBERS=200000 NODE_MEMBERS=20000 scripts/bench-simulate.sh
#
# Environment: MEMBERS, NODE_MEMBERS, THREADS (2), MONTHS (20: ~21 events a member),
# PROFILE_NAME (vn-fashion | sk-grocery), SEED (42), CARGO_PROFILE (release | dev),
# BASELINE=0 to simulate without a baseline, PGO=0 for the plain (not profile-guided) CLI in
# target/plain (the default is the profile-guided one of scripts/build-cli-pgo.sh), OUT (target/bench). Run it on an otherwise idle
# machine (`nice` is used for the builds only); the data file is ~5 KB per member.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MEMBERS="${MEMBERS:-1000000}"
NODE_MEMBERS="${NODE_MEMBERS:-100000}"
THREADS="${THREADS:-2}"
MONTHS="${MONTHS:-20}"
PROFILE_NAME="${PROFILE_NAME:-vn-fashion}"
SEED="${SEED:-42}"
CARGO_PROFILE="${CARGO_PROFILE:-release}"
BASELINE="${BASELINE:-1}"
OUT="${OUT:-target/bench}"
mkdir -p "$OUT"

case "$PROFILE_NAME" in
  vn-fashion) AS_OF="2026-10-01T00:00:00+07:00" ;;
  sk-grocery) AS_OF="2026-10-01T00:00:00+02:00" ;;
  *) echo "unknown PROFILE_NAME $PROFILE_NAME" >&2; exit 2 ;;
esac
DRAFT="docs/examples/$PROFILE_NAME-draft.json"
BASE="docs/examples/$PROFILE_NAME-baseline.json"
base_args=()
[ "$BASELINE" = 1 ] && base_args=(--baseline "$BASE")

if [ "$CARGO_PROFILE" = release ] && [ "${PGO:-1}" = 1 ]; then
  # The simulate CLI, profile-guided (scripts/build-cli-pgo.sh).
  echo "==> scripts/build-cli-pgo.sh"
  nice scripts/build-cli-pgo.sh > "$OUT/pgo-build.log" 2>&1 || { cat "$OUT/pgo-build.log" >&2; exit 1; }
  BIN=target/pgo/release-simulate/loyalty
else
  [ "$CARGO_PROFILE" = release ] && CARGO_PROFILE=release-simulate
  echo "==> cargo build --profile $CARGO_PROFILE -p loyalty-cli --no-default-features (plain)"
  nice cargo build -q --profile "$CARGO_PROFILE" -p loyalty-cli --no-default-features --bin loyalty --target-dir target/plain
  BIN="target/plain/$CARGO_PROFILE/loyalty"
  [ "$CARGO_PROFILE" = dev ] && BIN=target/plain/debug/loyalty
fi

DATA="$OUT/$PROFILE_NAME-$MEMBERS-$SEED-$MONTHS.ndjson"
if [ ! -s "$DATA" ]; then
  echo "==> generate $MEMBERS members ($PROFILE_NAME, $MONTHS months, seed $SEED) -> $DATA"
  "$BIN" generate --members "$MEMBERS" --seed "$SEED" --months "$MONTHS" --profile "$PROFILE_NAME" \
    --as-of "$AS_OF" > "$DATA" 2> "$DATA.stats"
fi
cat "$DATA.stats"
EVENTS="$(sed -n 's/.* \([0-9]*\) events$/\1/p' "$DATA.stats")"
echo "    $(du -h "$DATA" | cut -f1) on disk"

echo "==> native: loyalty simulate --threads $THREADS ($MEMBERS members, $EVENTS events, baseline: $BASELINE)"
/usr/bin/time -v "$BIN" simulate --policy "$DRAFT" "${base_args[@]}" --members "$DATA" \
  --as-of "$AS_OF" --expected-redemption 0.7 --threads "$THREADS" \
  > "$OUT/native-report.json" 2> "$OUT/native-time.txt"
secs="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$OUT/native-time.txt" \
  | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')"
user="$(sed -n 's/.*User time (seconds): //p' "$OUT/native-time.txt")"
rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$OUT/native-time.txt")"
awk -v e="$EVENTS" -v s="$secs" -v u="$user" -v r="$rss" -v m="$MEMBERS" 'BEGIN {
  printf "    native: %d members, %d events in %.2f s wall (%.2f s CPU): %.0f events/s, %.0f members/s; peak RSS %.1f MB\n",
    m, e, s, u, e / s, m / s, r / 1024 }'
head -c 300 "$OUT/native-report.json"; echo " …"

if [ ! -f pkg/node.mjs ]; then
  echo "==> pkg/ missing: scripts/build.sh --no-cli"
  nice scripts/build.sh --no-cli
fi
echo "==> Node: Simulation and ParallelSimulation ($THREADS workers) over the first $NODE_MEMBERS members (pkg/)"
WORKERS="$THREADS" node scripts/bench-simulate-node.mjs "$DATA" "$NODE_MEMBERS" "$DRAFT" "$([ "$BASELINE" = 1 ] && echo "$BASE" || echo -)" "$AS_OF" \
  | tee "$OUT/node.txt"

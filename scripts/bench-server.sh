#!/usr/bin/env bash
# Server benchmark (not a test; issue 13's numbers). For SQLite and for PostgreSQL (a throwaway
# cluster with fsync=on, synchronous_commit=on: the durable defaults), on the demo programme grown
# to $MEMBERS members:
#   - seeding rate (loyalty serve --demo --demo-members $MEMBERS, timed once per database);
#   - server start to first answer on the existing database (/healthz);
#   - bookings/s and p50/p99 latency: $CONCURRENCY tills booking in one call (confirm: true) the
#     SPEC §2 cart with redeem_points "max", one booking per member, $BOOKINGS bookings
#     (server/examples/load.rs; the lookups and local quotes are done before the timed phase);
#   - member read with replay of a ~1,000-event history: p50/p99 of GET /v1/members/long-1, one
#     at a time and 4 in flight.
# The server is pinned to CPU 0 and the load generator to CPU 1 (taskset), loopback only. The
# per-credential rate limit is off (--rate-limit 0): the load generator books with one till key.
#
#   scripts/bench-server.sh                       # MEMBERS=100000 BOOKINGS=20000 CONCURRENCY=32
#   MEMBERS=20000 BOOKINGS=5000 DBS=sqlite scripts/bench-server.sh
#   LOYALTY_BIN=/tmp/loyalty-old LOYALTY_LOAD=target/release/examples/load scripts/bench-server.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

MEMBERS="${MEMBERS:-100000}"
BOOKINGS="${BOOKINGS:-20000}"
CONCURRENCY="${CONCURRENCY:-32}"
DBS="${DBS:-sqlite postgres}"
OUT="${OUT:-target/bench-server}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)" # absolute: the SQLite URL below is built from it
RESULTS="$OUT/results.ndjson"

# LOYALTY_BIN / LOYALTY_LOAD: binaries to measure instead of this tree's (an A/B of two builds).
BIN="${LOYALTY_BIN:-target/release/loyalty}"
LOAD="${LOYALTY_LOAD:-target/release/examples/load}"
if [ -z "${LOYALTY_BIN:-}" ]; then
  step "cargo build --release -p loyalty-cli; the load generator (server/examples/load.rs)"
  cargo build -q --release -p loyalty-cli
  cargo build -q --release -p loyalty-server --example load
fi
command -v taskset > /dev/null || die "taskset (util-linux) is needed"

pg_dir=""
cleanup() {
  if [ -n "${SERVER_PID:-}" ]; then kill "$SERVER_PID" 2> /dev/null || true; fi
  if [ -n "$pg_dir" ]; then "$ROOT/scripts/pg.sh" stop "$pg_dir"; fi
}
trap cleanup EXIT

for db in $DBS; do
  data="$OUT/$db-$MEMBERS"
  case "$db" in
    sqlite) url="sqlite://$data/loyalty.db" ;;
    postgres)
      eval "$(PG_FSYNC=on "$ROOT/scripts/pg.sh" start)"
      pg_dir="$PG_DIR"
      url="${LOYALTY_TEST_PG%/*}/bench"
      psql "$LOYALTY_TEST_PG" -qc "CREATE DATABASE bench" > /dev/null
      rm -rf "$data"
      ;;
    *) die "unknown database $db" ;;
  esac
  mkdir -p "$data"
  if [ ! -f "$data/seeded" ]; then
    step "$db: seed the demo programme with $MEMBERS members"
    start=$(date +%s.%N)
    LOYALTY_DB_URL="$url" "$BIN" serve --demo --demo-members "$MEMBERS" --data-dir "$data" --listen 127.0.0.1:0 \
      > "$data/demo.out" 2> "$data/seed.log" &
    SERVER_PID=$!
    wait_listening "$data/seed.log" 36000 > /dev/null # seeding: up to an hour
    seed_s=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")
    kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""
    LOYALTY_DB_URL="$url" "$LOAD" long-member --db "$url" --events 1000 > "$data/long.json"
    echo "{\"db\":\"$db\",\"seeded_members\":$MEMBERS,\"seed_seconds\":$seed_s,\"long_member\":$(cat "$data/long.json")}" | tee -a "$RESULTS"
    touch "$data/seeded"
  fi
  KEY="$(sed -n 's/^till key: //p' "$data/demo-credentials")"

  step "$db: start on the existing database (pinned to CPU 0)"
  start=$(date +%s.%N)
  LOYALTY_DB_URL="$url" RUST_LOG=warn taskset -c 0 "$BIN" serve --data-dir "$data" --listen 127.0.0.1:0 --rate-limit 0 2> "$data/serve.log" &
  SERVER_PID=$!
  base="$(wait_listening "$data/serve.log")"
  until curl -sf "$base/healthz" > /dev/null; do sleep 0.01; done
  first_s=$(python3 -c "print(round($(date +%s.%N) - $start, 3))")
  echo "{\"db\":\"$db\",\"start_to_first_answer_s\":$first_s}" | tee -a "$RESULTS"

  step "$db: $BOOKINGS one-call bookings, $CONCURRENCY in flight (load generator on CPU 1)"
  from=$(( $(cat "$data/booked-from" 2> /dev/null || echo 0) ))
  [ $((from + BOOKINGS)) -le "$MEMBERS" ] || from=0
  r="$(taskset -c 1 "$LOAD" book --base "$base" --key "$KEY" --concurrency "$CONCURRENCY" --members "$BOOKINGS" --from "$from")"
  echo $((from + BOOKINGS)) > "$data/booked-from"
  echo "{\"db\":\"$db\",\"members\":$MEMBERS,\"load\":$r}" | tee -a "$RESULTS"

  for inflight in 1 4; do
    step "$db: member read with replay of the long history, $inflight in flight"
    r="$(taskset -c 1 "$LOAD" read --base "$base" --key "$KEY" --member long-1 --concurrency "$inflight" --seconds 10)"
    echo "{\"db\":\"$db\",\"events\":$(cat "$data/long.json"),\"in_flight\":$inflight,\"load\":$r}" | tee -a "$RESULTS"
  done

  kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""
  if [ "$db" = postgres ]; then
    "$ROOT/scripts/pg.sh" stop "$pg_dir"; pg_dir=""
    rm -f "$data/seeded"
  fi
done

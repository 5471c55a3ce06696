#!/usr/bin/env bash
# One variant of the server's booking benchmark on a database already seeded, for side-by-side
# runs of server settings or binaries: $BOOKINGS one-call bookings from member $FROM on, 32 in
# flight, server on CPU 0 and load generator on CPU 1. Prints the load generator's JSON plus,
# for the timed bookings only (from when the load generator says its warm-up lookups are done):
# the server's CPU time per booking (user + system, from /proc), its threads' context switches
# per booking (a count that does not depend on what else the machine runs, unlike the rate and,
# on a shared VM, the CPU) and the bytes it wrote per booking (files and sockets: /proc's wchar).
#
# SQLite (DB=sqlite, the default): on the file scripts/bench-server.sh seeded (same OUT and
# MEMBERS); fresh members each run (a member's document numbers are used once).
#   MEMBERS=20000 BOOKINGS=100 DBS=sqlite OUT=target/bench-ab scripts/bench-server.sh   # seed once
#   OUT=target/bench-ab FROM=1000 scripts/bench-server-ab.sh                        # defaults
#   OUT=target/bench-ab FROM=4000 scripts/bench-server-ab.sh --no-group-commit       # a setting
#   OUT=target/bench-ab FROM=7000 BIN=/tmp/loyalty-old scripts/bench-server-ab.sh    # a binary
#
# PostgreSQL (DB=postgres): in the cluster LOYALTY_TEST_PG names, the first run seeds a template
# database `seed_$MEMBERS` (its credentials in $OUT/postgres-$MEMBERS); every run books on a
# fresh copy of it, which is dropped after, so runs may start from the same member. Also printed:
# the CPU time and context switches per booking of the cluster's processes (every `postgres`
# process of the machine: run no other cluster meanwhile).
#   eval "$(PG_FSYNC=on scripts/pg.sh start)"                       # durable: fsync on
#   DB=postgres OUT=target/bench-ab BIN=/tmp/loyalty-old scripts/bench-server-ab.sh
#   DB=postgres OUT=target/bench-ab scripts/bench-server-ab.sh
#   scripts/pg.sh stop "$PG_DIR"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
MEMBERS="${MEMBERS:-20000}"
BOOKINGS="${BOOKINGS:-3000}"
FROM="${FROM:-0}"
OUT="${OUT:-target/bench-server}"
BIN="${BIN:-target/release/loyalty}"
LOAD="${LOAD:-target/release/examples/load}"
DB="${DB:-sqlite}"
data="$OUT/$DB-$MEMBERS"
copy=""
case "$DB" in
  sqlite)
    [ -f "$data/seeded" ] || die "$data is not seeded: run scripts/bench-server.sh with MEMBERS=$MEMBERS OUT=$OUT DBS=sqlite"
    url="sqlite://$(cd "$data" && pwd)/loyalty.db"
    ;;
  postgres)
    [ -n "${LOYALTY_TEST_PG:-}" ] || die "DB=postgres needs a cluster: eval \"\$(PG_FSYNC=on scripts/pg.sh start)\""
    template="seed_$MEMBERS"
    if [ -z "$(psql "$LOYALTY_TEST_PG" -tAc "SELECT 1 FROM pg_database WHERE datname = '$template'")" ]; then
      step "postgres: seed the template database $template with $MEMBERS demo members"
      psql "$LOYALTY_TEST_PG" -qc "CREATE DATABASE $template" > /dev/null
      rm -rf "$data"; mkdir -p "$data"
      LOYALTY_DB_URL="${LOYALTY_TEST_PG%/*}/$template" "$BIN" serve --demo --demo-members "$MEMBERS" \
        --data-dir "$data" --listen 127.0.0.1:0 > "$data/demo.out" 2> "$data/seed.log" &
      seeding=$!
      wait_listening "$data/seed.log" 36000 $seeding > /dev/null # seeding: up to an hour
      kill $seeding; wait $seeding || true
    fi
    copy="ab_$$_$RANDOM"
    psql "$LOYALTY_TEST_PG" -qc "CREATE DATABASE $copy TEMPLATE $template" > /dev/null
    url="${LOYALTY_TEST_PG%/*}/$copy"
    ;;
  *) die "DB is sqlite or postgres" ;;
esac
KEY="$(sed -n 's/^till key: //p' "$data/demo-credentials")"
log="$(mktemp)"; out="$(mktemp)"; err="$(mktemp)"
LOYALTY_DB_URL="$url" RUST_LOG=warn taskset -c 0 "$BIN" serve --data-dir "$data" --listen 127.0.0.1:0 --rate-limit 0 "$@" 2> "$log" &
pid=$!
finish() {
  kill $pid 2> /dev/null || true
  wait $pid 2> /dev/null || true
  [ -z "$copy" ] || psql "$LOYALTY_TEST_PG" -qc "DROP DATABASE IF EXISTS $copy" > /dev/null || true
  rm -f "$log" "$out" "$err"
}
trap finish EXIT
base="$(wait_listening "$log" 600 $pid)"
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
switches() { cat /proc/"$pid"/task/*/status 2> /dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }
written() { awk '/^wchar/ {print $2}' "/proc/$pid/io"; }
# Every postgres process: "pid cpu_ticks context_switches" (processes that start meanwhile count
# from 0).
pg_procs() {
  local p
  for p in $(pgrep -x postgres || true); do
    echo "$p $(awk '{print $14 + $15}' "/proc/$p/stat" 2> /dev/null || echo 0) $(awk '/ctxt_switches/ {s += $2} END {print s + 0}' "/proc/$p/status" 2> /dev/null || echo 0)"
  done
}
taskset -c 1 "$LOAD" book --base "$base" --key "$KEY" --concurrency 32 --members "$BOOKINGS" --from "$FROM" > "$out" 2> "$err" &
lp=$!
until grep -q prepared "$err" || ! kill -0 $lp 2> /dev/null; do sleep 0.005; done
t0=$(ticks); s0=$(switches); w0=$(written); pg0="$(pg_procs)"
wait $lp
t1=$(ticks); s1=$(switches); w1=$(written); pg1="$(pg_procs)"
hz=$(getconf CLK_TCK)
pg=""
if [ "$DB" = postgres ]; then
  pg="$(python3 - "$pg0" "$pg1" "$hz" "$BOOKINGS" << 'PY'
import sys
def procs(text):
    return {f[0]: (int(f[1]), int(f[2])) for f in (l.split() for l in text.splitlines()) if len(f) == 3}
a, b, hz, n = procs(sys.argv[1]), procs(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cpu = sum(t - a.get(p, (0, 0))[0] for p, (t, _) in b.items())
cs = sum(c - a.get(p, (0, 0))[1] for p, (_, c) in b.items())
print(f',"postgres_cpu_ms_per_booking":{round(cpu * 1000 / hz / n, 2)},"postgres_context_switches_per_booking":{round(cs / n, 1)}')
PY
)"
fi
grep 'answered' "$err" | head -n 3 >&2 || true
echo "{\"db\":\"$DB\",\"flags\":\"$*\",\"bin\":\"$BIN\",\"server_cpu_ms_per_booking\":$(python3 -c "print(round(($t1 - $t0) * 1000 / $hz / $BOOKINGS, 2))"),\"context_switches_per_booking\":$(python3 -c "print(round(($s1 - $s0) / $BOOKINGS, 1))"),\"server_written_kb_per_booking\":$(python3 -c "print(round(($w1 - $w0) / 1024 / $BOOKINGS, 1))")$pg,\"load\":$(cat "$out")}"

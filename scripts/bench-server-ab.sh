#!/usr/bin/env bash
# One variant of the server's booking benchmark on a database already seeded by
# scripts/bench-server.sh (same OUT and MEMBERS), for side-by-side runs of server settings or
# binaries: $BOOKINGS one-call bookings from member $FROM on (fresh members each run: a member's
# document numbers are used once), 32 in flight, server on CPU 0 and load generator on CPU 1.
# Prints the load generator's JSON plus, for the timed bookings only (from when the load
# generator says its warm-up lookups are done), the server's CPU time per booking (user +
# system, from /proc) and its threads' context switches per booking (from /proc: a count that
# does not depend on what else the machine runs, unlike the rate and, on a shared VM, the CPU).
#
#   MEMBERS=20000 BOOKINGS=100 DBS=sqlite OUT=target/bench-ab scripts/bench-server.sh   # seed once
#   OUT=target/bench-ab FROM=1000 scripts/bench-server-ab.sh                        # defaults
#   OUT=target/bench-ab FROM=4000 scripts/bench-server-ab.sh --no-group-commit       # a setting
#   OUT=target/bench-ab FROM=7000 BIN=/tmp/loyalty-old scripts/bench-server-ab.sh    # a binary
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
MEMBERS="${MEMBERS:-20000}"
BOOKINGS="${BOOKINGS:-3000}"
FROM="${FROM:-0}"
OUT="${OUT:-target/bench-server}"
BIN="${BIN:-target/release/loyalty}"
LOAD=target/release/examples/load
data="$OUT/sqlite-$MEMBERS"
[ -f "$data/seeded" ] || die "$data is not seeded: run scripts/bench-server.sh with MEMBERS=$MEMBERS OUT=$OUT DBS=sqlite"
KEY="$(sed -n 's/^till key: //p' "$data/demo-credentials")"
log="$(mktemp)"
RUST_LOG=warn taskset -c 0 "$BIN" serve --data-dir "$data" --listen 127.0.0.1:0 --rate-limit 0 "$@" 2> "$log" &
pid=$!
trap 'kill $pid 2> /dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 600); do grep -q "listening on" "$log" && break; sleep 0.1; done
base="$(sed -n 's/^loyalty serve: listening on //p' "$log" | head -n1)"
[ -n "$base" ] || { cat "$log" >&2; die "the server did not start"; }
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
switches() { cat /proc/"$pid"/task/*/status 2> /dev/null | awk '/ctxt_switches/ {s += $2} END {print s}'; }
out="$(mktemp)"; err="$(mktemp)"
trap 'kill $pid 2> /dev/null || true; rm -f "$log" "$out" "$err"' EXIT
taskset -c 1 "$LOAD" book --base "$base" --key "$KEY" --concurrency 32 --members "$BOOKINGS" --from "$FROM" > "$out" 2> "$err" &
lp=$!
until grep -q prepared "$err" || ! kill -0 $lp 2> /dev/null; do sleep 0.005; done
t0=$(ticks); s0=$(switches)
wait $lp
t1=$(ticks); s1=$(switches)
r="$(cat "$out")"
hz=$(getconf CLK_TCK)
echo "{\"flags\":\"$*\",\"bin\":\"$BIN\",\"server_cpu_ms_per_booking\":$(python3 -c "print(round(($t1 - $t0) * 1000 / $hz / $BOOKINGS, 2))"),\"context_switches_per_booking\":$(python3 -c "print(round(($s1 - $s0) / $BOOKINGS, 1))"),\"load\":$r}"

#!/usr/bin/env bash
# Reports benchmark (issue 15, docs/reports.md): N generated members loaded into the server's
# database (`loyalty serve load`, its rate measured), then each report for a 12-month period
# timed through HTTP on SQLite and on PostgreSQL, and the background CSV export of every card
# transaction (rows/s, and the server's resident memory sampled while it runs).
#
#   scripts/bench-reports.sh [MEMBERS]          # default 100000; BACKENDS="sqlite postgres"
#   REPORTS_DB=sqlite:///work/bi1m/sqlite-data/loyalty.db FROM=2025-01-01 TO=2025-12-31 \
#     scripts/bench-reports.sh   # a database already filled (e.g. by bench-import-server.sh):
#                                # no load; an admin made by `loyalty serve admin`; kept
#   REPORTS="frequency&status=active customers&status=active" EXPORT=0 …  # some reports only
#
# Needs the release CLI (scripts/build.sh, or `cargo build --release -p loyalty-cli`), curl,
# and for PostgreSQL the throwaway cluster of scripts/pg.sh (started and stopped here).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
MEMBERS="${1:-100000}"
BACKENDS="${BACKENDS:-sqlite postgres}"
BIN="${LOYALTY_BIN:-target/release/loyalty}"
[ -x "$BIN" ] || { echo "bench-reports: $BIN not found: cargo build --release -p loyalty-cli" >&2; exit 2; }
WORK="$(mktemp -d /tmp/bench-reports.XXXXXX)"
PG_DIR=""
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2> /dev/null || true
  [ -n "$PG_DIR" ] && scripts/pg.sh stop "$PG_DIR" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

FROM="${FROM:-2025-10-01}"
TO="${TO:-2026-09-30}"
REPORTS_DB="${REPORTS_DB:-}"
[ -n "$REPORTS_DB" ] && BACKENDS=given
echo "# reports benchmark: ${REPORTS_DB:-$MEMBERS members}, period $FROM..$TO, $(nproc) cores"
t0=$(date +%s.%N)
[ -n "$REPORTS_DB" ] || "$BIN" generate --members "$MEMBERS" --profile vn-fashion --months 24 --seed 1 > "$WORK/members.ndjson" 2> "$WORK/generate.log"
[ -n "$REPORTS_DB" ] || echo "generate: $(tail -n 1 "$WORK/generate.log") in $(echo "$(date +%s.%N) - $t0" | bc) s ($(du -h "$WORK/members.ndjson" | cut -f1))"

start_server() { # url data_dir [--demo]
  local url="$1" dir="$2"
  shift 2
  "$BIN" serve --db "$url" --data-dir "$dir" --listen 127.0.0.1:0 --worker-interval-ms 600000 "$@" \
    > "$dir/stdout" 2> "$dir/stderr" &
  SERVER_PID=$!
  BASE="$(wait_listening "$dir/stderr" 1200 $SERVER_PID)"
}
stop_server() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2> /dev/null || true
  SERVER_PID=""
}

for backend in $BACKENDS; do
  dir="$WORK/$backend"
  mkdir -p "$dir"
  if [ "$backend" = given ]; then
    url="$REPORTS_DB"
    "$BIN" serve admin --db "$url" --user bench-reports > "$dir/stdout"
  elif [ "$backend" = postgres ]; then
    eval "$(scripts/pg.sh start)"
    url="$LOYALTY_TEST_PG"
  else
    url="sqlite://$dir/loyalty.db"
  fi
  if [ "$backend" != given ]; then
    # The demo programme (the SPEC §1 policy, stores, an admin) without demo members.
    start_server "$url" "$dir" --demo --demo-members 0
    stop_server
  fi
  user="$(sed -n 's/^admin user: //p' "$dir/stdout")"
  password="$(sed -n 's/^admin password: //p' "$dir/stdout")"
  echo "## $backend"
  if [ "$backend" != given ]; then
    /usr/bin/time -f "load: peak RSS %M KiB" -o "$dir/load.rss" \
      "$BIN" serve load --db "$url" --members "$WORK/members.ndjson" --batch 2000 > "$dir/load.json" 2> "$dir/load.log" || true
    tail -n 1 "$dir/load.log" | sed 's/^/load: /'
    cat "$dir/load.rss"
  fi
  start_server "$url" "$dir"
  jar="$dir/cookies"
  curl -s -c "$jar" -H 'content-type: application/json' \
    -d "{\"user\":\"$user\",\"password\":\"$password\"}" "$BASE/v1/admin/login" > "$dir/login.json"
  csrf="$(sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p' "$dir/login.json")"
  # Each report, then frequency and customers under each filter (a store, a tier, a status, a
  # card type: rpt_cells rows of their own or a cell column; two filters: the purchases).
  # REPORTS overrides the list (e.g. REPORTS="frequency&status=active" EXPORT=0 for an A/B run).
  for r in ${REPORTS:-revenue frequency customers tiers points \
    "frequency&store=hcm-01" "customers&store=hcm-01" "frequency&tier=gold" "customers&tier=gold" \
    "frequency&status=active" "customers&status=active" "frequency&status=inactive" \
    "customers&status=inactive" "frequency&card_type=vip" "customers&card_type=vip" \
    "frequency&store=hcm-01&tier=gold"}; do
    q="from=$FROM&to=$TO&group=month&${r#*&}"
    [ "${r#*&}" = "$r" ] && q="from=$FROM&to=$TO&group=month"
    name="${r%%&*}"
    curl -s -b "$jar" -o /dev/null "$BASE/v1/reports/$name?$q" # warm the caches once
    best=""
    for _ in 1 2 3; do
      t=$(curl -s -b "$jar" -o "$dir/${r//[&=]/_}.json" -w '%{time_total}' "$BASE/v1/reports/$name?$q")
      if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
    done
    echo "report $r: best of 3 ${best} s"
  done
  if [ "${EXPORT:-1}" = 0 ]; then
    stop_server
    continue
  fi
  t=$(curl -s -b "$jar" -o /dev/null -w '%{time_total}' "$BASE/v1/reports/revenue?from=$FROM&to=$TO&group=day&format=csv")
  echo "report revenue by day as CSV: ${t} s"
  # The background export of every transaction of the period.
  rss_before=$(ps -o rss= -p "$SERVER_PID" | tr -d ' ')
  # RssAnon: the process's own memory, without the file pages SQLite maps (mmap_size) as it reads.
  anon() { awk '/^RssAnon/ {print $2}' "/proc/$SERVER_PID/status"; }
  anon_before=$(anon)
  anon_max=$anon_before
  job="$(curl -s -b "$jar" -H "x-csrf-token: $csrf" -H 'content-type: application/json' \
    -d "{\"report\":\"transactions\",\"from\":\"$FROM\",\"to\":\"$TO\"}" "$BASE/v1/reports/exports")"
  id="$(echo "$job" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')"
  t0=$(date +%s.%N)
  rss_max=$rss_before
  state=running
  while [ "$state" = running ]; do
    sleep 0.2
    rss=$(ps -o rss= -p "$SERVER_PID" | tr -d ' ')
    [ "$rss" -gt "$rss_max" ] && rss_max=$rss
    a=$(anon)
    [ "$a" -gt "$anon_max" ] && anon_max=$a
    status="$(curl -s -b "$jar" "$BASE/v1/reports/exports/$id")"
    state="$(echo "$status" | sed -n 's/.*"state":"\([^"]*\)".*/\1/p')"
  done
  secs=$(echo "$(date +%s.%N) - $t0" | bc)
  rows="$(echo "$status" | sed -n 's/.*"rows_done":\([0-9]*\).*/\1/p')"
  echo "export: $state, $rows rows in $secs s = $(echo "$rows / $secs" | bc) rows/s; server RSS ${rss_before} KiB before, ${rss_max} KiB at most during the export (anonymous: ${anon_before} → ${anon_max} KiB)"
  t=$(curl -s -b "$jar" -o "$dir/export.csv" -w '%{time_total}' "$BASE/v1/reports/exports/$id/download")
  echo "download: $(wc -l < "$dir/export.csv") lines, $(du -h "$dir/export.csv" | cut -f1) in $t s"
  stop_server
  [ "$backend" = given ] || du -sh "$dir" | sed 's/^/data directory: /'
  if [ "$backend" = postgres ]; then
    psql "$LOYALTY_TEST_PG" -Atc "SELECT 'database: ' || pg_size_pretty(pg_database_size(current_database()))" || true
    scripts/pg.sh stop "$PG_DIR"
    PG_DIR=""
  fi
  rm -rf "$dir" # one backend's data at a time on the disk (1 M members: tens of GB)
done

#!/usr/bin/env bash
# Server import benchmark (issue 18): synthetic exports (`loyalty import-sample`) loaded into a
# fresh SQLite database and a fresh PostgreSQL database by `loyalty serve import`, timed with
# /usr/bin/time -v (wall, CPU, peak RSS), then `loyalty serve check` replays every member.
# Not a test. Results: docs/migration.md ("Into the server", Measured) and the README.
#
#   scripts/bench-import-server.sh [CUSTOMERS] [TRANSACTION_ROWS]    # default 100000 2000000
#   BENCH_DBS="sqlite" scripts/bench-import-server.sh 1000000 20000000
#
# PostgreSQL: a throwaway cluster from scripts/pg.sh, with fsync on (PG_FSYNC=on) — the
# durable setting the server runs with. SQLite: synchronous=FULL, as the server runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

CUSTOMERS="${1:-100000}"
ROWS="${2:-2000000}"
DBS="${BENCH_DBS:-sqlite postgres}"
WORK="${BENCH_DIR:-$(mktemp -d /tmp/loyalty-bench-import.XXXXXX)}"
mkdir -p "$WORK"

step "building the CLI (release)"
nice cargo build --release -p loyalty-cli -q
BIN="$ROOT/target/release/loyalty"

step "writing $CUSTOMERS customers / $ROWS transaction rows into $WORK/exports"
if [ ! -f "$WORK/exports/mapping.json" ]; then
  "$BIN" import-sample --dir "$WORK/exports" --customers "$CUSTOMERS" --transactions "$ROWS"
fi
du -sh "$WORK/exports"
FILES=("$WORK/exports/customers.csv" "$WORK/exports/balances.csv" "$WORK/exports/tiers.csv" "$WORK/exports/transactions.csv")
POLICY="$ROOT/docs/examples/vn-fashion-baseline.json"

run() {
  local name="$1" url="$2"
  step "$name: loyalty serve import"
  /usr/bin/time -v -o "$WORK/$name.time" nice "$BIN" serve import --db "$url" \
    --data-dir "$WORK/$name-data" --publish-policy "$POLICY" --report "$WORK/$name.report.json" \
    --mapping "$WORK/exports/mapping.json" "${FILES[@]}" > "$WORK/$name.job.json" || true
  grep -E "Elapsed|Maximum resident|User time|System time" "$WORK/$name.time"
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(json.dumps({"state": j["state"], "counts": j["counts"], "error": j["error"]}))' "$WORK/$name.job.json"
  step "$name: loyalty serve check"
  /usr/bin/time -v -o "$WORK/$name.check.time" "$BIN" serve check --db "$url" > /dev/null || true
  grep -E "Elapsed|Maximum resident" "$WORK/$name.check.time"
}

for db in $DBS; do
  case "$db" in
    sqlite)
      rm -rf "$WORK/sqlite-data"
      run sqlite "sqlite://$WORK/sqlite-data/loyalty.db"
      du -sh "$WORK/sqlite-data"
      ;;
    postgres)
      eval "$(PG_FSYNC=on scripts/pg.sh start)"
      trap 'scripts/pg.sh stop "$PG_DIR"' EXIT
      psql_url="${LOYALTY_TEST_PG%/postgres}"
      "$(ls -d /usr/lib/postgresql/*/bin | head -n1)/psql" "$LOYALTY_TEST_PG" -qc "CREATE DATABASE bench" > /dev/null
      run postgres "$psql_url/bench"
      ;;
  esac
done
echo "work folder: $WORK (remove it when done)"

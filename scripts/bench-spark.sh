#!/usr/bin/env bash
# Spark simulation benchmark (not a test): generates $MEMBERS members with `loyalty generate`,
# times `loyalty simulate` and loyalty_engine.spark.simulate in a local Spark ($MASTER) on the
# same file, and checks the reports are byte-identical. Needs scripts/test-python.sh to have
# built the venv and wheel, and target/release/loyalty. Results are recorded in docs/scaling.md.
#
#   scripts/bench-spark.sh                          # 100,000 members, local[2], 8 partitions
#   MEMBERS=20000 PARTITIONS=4 scripts/bench-spark.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

MEMBERS="${MEMBERS:-100000}"
MONTHS="${MONTHS:-20}"
SEED="${SEED:-42}"
MASTER="${MASTER:-local[2]}"
PARTITIONS="${PARTITIONS:-8}"
VENV="${PY_VENV:-$ROOT/target/py-venv}"
LOYALTY="${LOYALTY_BIN:-$ROOT/target/release/loyalty}"
OUT="${OUT:-target/bench}"
mkdir -p "$OUT"
[ -x "$LOYALTY" ] || die "no $LOYALTY: run scripts/build.sh (or cargo build --release --bin loyalty)"
[ -x "$VENV/bin/python" ] || die "no venv at $VENV: run scripts/test-python.sh"

data="$OUT/spark-members-$MEMBERS-$MONTHS-$SEED.ndjson"
if [ ! -s "$data" ]; then
  step "loyalty generate --members $MEMBERS --months $MONTHS --seed $SEED --profile vn-fashion"
  "$LOYALTY" generate --members "$MEMBERS" --months "$MONTHS" --seed "$SEED" --profile vn-fashion >"$data"
fi
printf 'members file: %s (%s)\n' "$data" "$(du -h "$data" | cut -f1)"
export PYSPARK_PYTHON="$VENV/bin/python" PYSPARK_DRIVER_PYTHON="$VENV/bin/python"
"$VENV/bin/python" "$ROOT/python/bench/spark_simulate.py" \
  --members "$data" --loyalty "$LOYALTY" \
  --draft docs/examples/vn-fashion-draft.json --baseline docs/examples/vn-fashion-baseline.json \
  --as-of 2026-10-01T00:00:00+07:00 --master "$MASTER" --partitions "$PARTITIONS"

#!/usr/bin/env bash
# The Python package (python/): builds the abi3 wheel with maturin, installs it into a virtual
# environment under target/ and runs its tests (python/tests/: the conformance vectors, the
# Simulation partial sums, the JSON Schemas, Spark in local[2,2]). Nothing is installed into the
# system Python. Idempotent: the venv and its pinned packages (python/requirements-test.txt,
# from PyPI) are made once; Java (for Spark) is installed from Debian only if `java` is missing.
# Exits non-zero on any failure.
#
#   scripts/test-python.sh                 # build + every Python test
#   scripts/test-python.sh -k spark        # extra arguments go to pytest
#
# Environment: PY_VENV (target/py-venv), PYTHON (python3: the interpreter the venv is made
# from), LOYALTY_BIN (the `loyalty` CLI the Spark tests compare with; default
# target/release/loyalty, built here if missing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

VENV="${PY_VENV:-$ROOT/target/py-venv}"
PY="$VENV/bin/python"
REQS="$ROOT/python/requirements-test.txt"

if [ ! -x "$PY" ]; then
  step "python venv at ${VENV#"$ROOT"/}"
  "${PYTHON:-python3}" -m venv "$VENV"
fi
stamp="$VENV/.requirements-test.txt"
if ! cmp -s "$REQS" "$stamp"; then
  step "pip install -r python/requirements-test.txt (PyPI)"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$REQS"
  cp "$REQS" "$stamp"
fi

if ! command -v java >/dev/null 2>&1; then
  step "apt-get install openjdk-17-jre-headless (Spark needs Java)"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  if ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends openjdk-17-jre-headless; then
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends openjdk-17-jre-headless
  fi
fi

step "cargo clippy: the schema feature and the extension crate (not in the default build) -- -D warnings"
export PYO3_PYTHON="$PY"
nice cargo clippy --quiet --features schema --lib --test schema -- -D warnings
nice cargo clippy --quiet -p loyalty-engine-python --all-targets -- -D warnings

step "cargo test --features schema --test schema (the shipped JSON Schemas are the generated ones)"
nice cargo test --quiet --features schema --test schema

if [ -z "${LOYALTY_BIN:-}" ] && [ ! -x "$ROOT/target/release/loyalty" ]; then
  step "cargo build --release --bin loyalty (the CLI the Spark tests compare with)"
  nice cargo build --release --bin loyalty
fi

step "maturin build (abi3 wheel, cargo profile \`python\`)"
rm -rf "$ROOT/target/wheels"
(cd "$ROOT/python" && nice "$VENV/bin/maturin" build --profile python -i "$PY" -o "$ROOT/target/wheels")
wheel=("$ROOT"/target/wheels/loyalty_engine-*.whl)
[ -f "${wheel[0]}" ] || die "maturin wrote no wheel"
step "pip install ${wheel[0]#"$ROOT"/}"
"$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "${wheel[0]}"

step "pytest python/tests"
export PYSPARK_PYTHON="$PY" PYSPARK_DRIVER_PYTHON="$PY"
# Run from python/tests so that the installed wheel (not python/loyalty_engine/) is imported.
cd "$ROOT/python/tests"
"$PY" -m pytest -q -p no:cacheprovider "$@" .

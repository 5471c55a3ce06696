#!/usr/bin/env bash
# Sets everything up (idempotent, Chromium and PostgreSQL included) and runs every check:
#   rustfmt, clippy (native, and wasm32 for the three modules: full, core and progress), cargo test (the engine
#   incl. tests/vectors, the CLI, and the server's tests on SQLite and on a throwaway PostgreSQL
#   cluster started here), the package build, the Node tests of the built package, the browser
#   tests (module script, Vite build, the pages) and the Wasm size report.
# Prints a header per section and a summary; exits non-zero if anything failed.
#
#   scripts/test.sh                 # everything
#   SKIP_BROWSER=1 scripts/test.sh  # without Chromium
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

results=()
failed=0
build_ok=1

section() {
  printf '\n%s========== %s ==========%s\n' "$_bold" "$1" "$_reset"
}

# run NAME COMMAND...: one section; records PASS/FAIL and the time it took.
run() {
  local name="$1"
  shift
  section "$name"
  local start=$SECONDS
  if "$@"; then
    results+=("PASS  $name ($((SECONDS - start))s)")
    return 0
  else
    local rc=$?
    results+=("FAIL  $name ($((SECONDS - start))s, exit $rc)")
    failed=1
    return $rc
  fi
}

skip() {
  section "$1"
  echo "skipped: $2"
  results+=("SKIP  $1 ($2)")
}

setup_args=(--browser)
[ "${SKIP_BROWSER:-}" = 1 ] && setup_args=()
if ! run "setup" "$ROOT/scripts/setup.sh" "${setup_args[@]}"; then
  echo "setup failed; nothing else can run" >&2
  exit 1
fi
export LOYALTY_SETUP_DONE=1

# One PostgreSQL cluster for the whole run (scripts/pg.sh): the server's tests clone a migrated
# template database per test. Its absence fails the server tests (LOYALTY_TEST_PG_REQUIRED).
export LOYALTY_TEST_PG_REQUIRED=1
section "PostgreSQL (throwaway cluster)"
if pg_env="$("$ROOT/scripts/pg.sh" start)"; then
  eval "$pg_env"
  trap '"$ROOT/scripts/pg.sh" stop "$PG_DIR"' EXIT
  echo "PostgreSQL at ${LOYALTY_TEST_PG}"
  results+=("PASS  PostgreSQL cluster")
else
  results+=("FAIL  PostgreSQL cluster (the server tests will fail)")
  failed=1
fi

run "cargo fmt --check" cargo fmt --all -- --check
run "cargo clippy --all-targets -- -D warnings" cargo clippy --all-targets -- -D warnings
run "cargo clippy (wasm32: src/wasm.rs, full module) -- -D warnings" \
  cargo clippy -p loyalty-engine --target wasm32-unknown-unknown --lib -- -D warnings
run "cargo clippy (wasm32: src/wasm.rs, core module: --no-default-features) -- -D warnings" \
  cargo clippy -p loyalty-engine --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings
run "cargo clippy (wasm32: src/wasm.rs, progress module: --no-default-features --features progress) -- -D warnings" \
  cargo clippy -p loyalty-engine --target wasm32-unknown-unknown --lib --no-default-features --features progress -- -D warnings
run "cargo test (engine, CLI, server on SQLite and PostgreSQL)" cargo test --no-fail-fast
run "build: CLI, pkg/, npm pack" "$ROOT/scripts/build.sh" || build_ok=0

node_tests=(tests/node/*.test.mjs)
browser_tests=(tests/browser/*.test.mjs)
if [ "$build_ok" = 1 ]; then
  run "node --test tests/node/ (${#node_tests[@]} files)" node --test "${node_tests[@]}"
  if [ "${SKIP_BROWSER:-}" = 1 ]; then
    skip "browser tests" "SKIP_BROWSER=1"
  else
    # One file at a time: each starts its own Chromium.
    run "browser tests: module script, Vite build, POS, simulator, widget, member lookup (Chromium)" \
      node --test --test-concurrency=1 "${browser_tests[@]}"
  fi
  run "size report" node scripts/size.mjs
else
  skip "node tests" "the build failed"
  skip "browser tests" "the build failed"
  skip "size report" "the build failed"
fi
# The Python package (python/): the abi3 wheel in a venv under target/, its tests (vectors, JSON
# Schemas, Spark in local[2,2]); scripts/test-python.sh installs what it needs (PyPI, Java).
run "python: wheel + pytest python/tests (vectors, schemas, Spark)" "$ROOT/scripts/test-python.sh"

section "summary"
printf '%s\n' "${results[@]}"
if [ "$failed" = 0 ]; then
  echo "test.sh: all sections passed"
else
  echo "test.sh: FAILED (see the sections marked FAIL above)"
fi
exit "$failed"

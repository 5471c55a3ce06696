#!/usr/bin/env bash
# Builds the native CLI and the npm package.
#
#   scripts/build.sh           # target/release/loyalty, pkg/, target/npm/loyalty-engine.tgz
#   scripts/build.sh --no-cli  # the package only
#
# pkg/ is the package as published (see scripts/assemble-pkg.mjs for its layout);
# target/npm/loyalty-engine.tgz is `npm pack` of it, which the tests install as a consumer would.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

build_cli=1
for arg in "$@"; do
  case "$arg" in
    --no-cli) build_cli=0 ;;
    *) die "build.sh: unknown argument $arg" ;;
  esac
done

[ "${LOYALTY_SETUP_DONE:-}" = 1 ] || "$ROOT/scripts/setup.sh"

if [ "$build_cli" = 1 ]; then
  step "cargo build --release --bin loyalty"
  cargo build --release --bin loyalty
fi

step "cargo build --release --target wasm32-unknown-unknown --lib"
cargo build --release --target wasm32-unknown-unknown --lib
wasm="target/wasm32-unknown-unknown/release/loyalty_engine.wasm"

step "wasm-bindgen --target web / --target nodejs"
out=target/wasm-bindgen
rm -rf "$out"
for t in web nodejs; do
  # The release profile strips symbols and with them the target_features section, which
  # wasm-bindgen warns about; it then assumes Rust's default wasm32 features, which is right.
  wasm-bindgen --target "$t" --out-dir "$out/$t" --out-name loyalty_engine "$wasm" 2> "$out.$t.log" || {
    cat "$out.$t.log" >&2
    die "wasm-bindgen --target $t failed"
  }
  grep -v 'target_features. custom section is missing' "$out.$t.log" >&2 || true
done

step "assemble pkg/ (wasm-opt -Oz)"
node scripts/assemble-pkg.mjs "$out/web" "$out/nodejs"

step "npm pack pkg/ -> target/npm/loyalty-engine.tgz; install it into tests/consumer and tests/vite"
node scripts/pack.mjs

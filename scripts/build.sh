#!/usr/bin/env bash
# Builds the native CLI and the npm package.
#
#   scripts/build.sh           # target/release/loyalty (the CLI with `loyalty serve`),
#                              # pkg/ (full, core and progress module), target/npm/loyalty-engine.tgz
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
  # The CLI and the server (cli/, server/): release profile, unwinding panics, thin LTO. The
  # profile-guided simulate build is the benchmark's (scripts/build-cli-pgo.sh): a warm
  # `cargo build` here rebuilds nothing.
  step "cargo build --release -p loyalty-cli"
  cargo build --release -p loyalty-cli
fi

# The simulator's JSON editor (CodeMirror 6 + the policy's JSON Schema), one ES module bundled from
# the npm devDependencies into target/vendor/codemirror/ (skipped when its inputs are unchanged).
step "node scripts/build-editor.mjs (the simulator's JSON editor)"
node scripts/build-editor.mjs

# Three Wasm modules from the same crate: full (every operation: `loyalty-engine`), core
# (`--no-default-features`: validate and quote, `loyalty-engine/core`, what a POS downloads) and
# progress (`--no-default-features --features progress`: validate and progress,
# `loyalty-engine/progress`, what the storefront widget downloads).
out=target/wasm-bindgen
declare -A wasm_of name_of

# A module built for size (profile wasm-core): std is rebuilt with panics as immediate aborts,
# which drops every panic message, location and the formatting and Unicode tables behind them
# (~25 KB raw, ~10 KB gzip). The library never panics (clippy denies unwrap/expect/panic/
# indexing), so nothing is lost. -Zbuild-std is unstable: RUSTC_BOOTSTRAP=1 lets the one stable
# toolchain take it (setup.sh adds rust-src). Each module has its own target dir, so the builds'
# flags never invalidate each other's cache. Should that fail (no rust-src, a toolchain without
# the flag), the ordinary build is used: the same code and answers, ≈ 25 KB larger (the size
# report says so). Sets `wasm`. `small_rustflags` (optional): more rustc flags for this module.
build_small() { # MODULE [FEATURE ARGS...]
  local module="$1"
  shift
  wasm="target/$module/wasm32-unknown-unknown/wasm-core/loyalty_engine.wasm"
  step "cargo build -p loyalty-engine --profile wasm-core --target wasm32-unknown-unknown --lib --no-default-features${*:+ $*} -Zbuild-std ($module module${small_rustflags:+, $small_rustflags})"
  if ! RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cpanic=immediate-abort -Zunstable-options${small_rustflags:+ $small_rustflags}" \
    cargo build -p loyalty-engine --profile wasm-core --target wasm32-unknown-unknown --lib --no-default-features \
    "$@" -Zbuild-std=std,panic_abort --target-dir "target/$module"; then
    warn "the $module module could not be built with std's immediate-abort panics; building it the ordinary way"
    wasm="target/$module-plain/wasm32-unknown-unknown/wasm-core/loyalty_engine.wasm"
    cargo build -p loyalty-engine --profile wasm-core --target wasm32-unknown-unknown --lib --no-default-features \
      "$@" --target-dir "target/$module-plain"
  fi
}

for module in full core progress; do
  if [ "$module" = progress ]; then
    # What the storefront widget (`<loyalty-progress>`) downloads: built like the core module
    # (size profile, talc, the small SHA-256) with the progress operation only.
    name=loyalty_engine_progress
    # LLVM's inlining threshold 15 instead of opt-level "z"'s 25: −0.6 KB gzip here (measured:
    # 10 −0.2 KB, 12–15 −0.6 KB, 20 +0.5 KB, 50 +3.1 KB; docs/widget.md). The core module
    # keeps the default: it would save 0.3 KB there, but a POS quotes per call and its speed
    # with less inlining was not measured.
    small_rustflags="-Cllvm-args=-inline-threshold=15" build_small progress --features progress
  elif [ "$module" = core ]; then
    # What a POS downloads, built for size (issue 2's budget).
    name=loyalty_engine_core
    build_small core
  else
    # Every operation, built for speed (profile wasm-full, opt-level 3; see Cargo.toml).
    name=loyalty_engine
    wasm="target/wasm32-unknown-unknown/wasm-full/loyalty_engine.wasm"
    step "cargo build -p loyalty-engine --profile wasm-full --target wasm32-unknown-unknown --lib (full module)"
    cargo build -p loyalty-engine --profile wasm-full --target wasm32-unknown-unknown --lib
  fi
  wasm_of[$module]="$wasm"
  name_of[$module]="$name"
done

# Everything after cargo (wasm-bindgen, wasm-opt, the package, npm pack) depends only on the three
# modules and the files below: when none changed since the last build, pkg/ is kept as it is, so
# a second `start.sh` rebuilds nothing.
stamp_file=target/pkg-inputs.sha256
stamp="$( (sha256sum "${wasm_of[full]}" "${wasm_of[core]}" "${wasm_of[progress]}" Cargo.toml package-lock.json scripts/build.sh \
  scripts/assemble-pkg.mjs scripts/pos-sample.mjs scripts/pack.mjs
  find pkg-template -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] && [ -f pkg/package.json ] &&
  [ -f target/npm/loyalty-engine.tgz ] && [ -f www/pos/generated-sample.json ]; then
  step "pkg/ is up to date (same modules and templates): nothing to assemble"
  exit 0
fi
rm -f "$stamp_file"
rm -rf "$out"

for module in full core progress; do
  wasm="${wasm_of[$module]}"
  name="${name_of[$module]}"
  step "wasm-bindgen --target web / --target nodejs ($module module)"
  for t in web nodejs; do
    # The release profile strips symbols and with them the target_features section, which
    # wasm-bindgen warns about; it then assumes Rust's default wasm32 features, which is right.
    log="$out/$module.$t.log"
    mkdir -p "$out/$module"
    wasm-bindgen --target "$t" --out-dir "$out/$module/$t" --out-name "$name" "$wasm" 2> "$log" || {
      cat "$log" >&2
      die "wasm-bindgen --target $t failed ($module module)"
    }
    grep -v 'target_features. custom section is missing' "$log" >&2 || true
  done
done

step "assemble pkg/ (wasm-opt -Oz)"
node scripts/assemble-pkg.mjs "$out"

step "www/pos/generated-sample.json (the POS page's generated members, replayed with the full module)"
node scripts/pos-sample.mjs

step "npm pack pkg/ -> target/npm/loyalty-engine.tgz; install it into tests/consumer and tests/vite"
node scripts/pack.mjs
echo "$stamp" > "$stamp_file"

#!/usr/bin/env bash
# Sets up everything the build and the tests need, idempotently: each step checks first and
# skips what is already there, so running it twice costs a few seconds.
#
#   scripts/setup.sh            # Rust wasm32 target, pinned wasm-bindgen CLI, npm devDependencies
#   scripts/setup.sh --browser  # the same, plus Debian's Chromium for the browser tests
#
# Only the npm registry, crates.io and Debian's apt archive are used.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) die "setup.sh: unknown argument $arg" ;;
  esac
done

# --- Rust -------------------------------------------------------------------------------------
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs) first"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then
    step "rustup component add $component"
    rustup component add "$component"
  fi
done
# rust-src: scripts/build.sh rebuilds std for the core Wasm module (panics as immediate aborts).
# Without it the core module is built the ordinary way (≈ 25 KB larger), so a machine that
# cannot fetch it still builds and tests everything.
if ! rustup component list --installed 2>/dev/null | grep -q "^rust-src"; then
  step "rustup component add rust-src"
  rustup component add rust-src || warn "rust-src could not be installed: the core Wasm module will be built without rebuilding std (larger)"
fi

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate pinned in Cargo.toml.
wb_version="$(wasm_bindgen_pinned_version)"
[ -n "$wb_version" ] || die "could not read the pinned wasm-bindgen version (\"=x.y.z\") from Cargo.toml"
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $wb_version" ]; then
  step "cargo install wasm-bindgen-cli --version =$wb_version (a few minutes, once per machine)"
  cargo install wasm-bindgen-cli --version "=$wb_version"
  [ "$(wasm-bindgen --version)" = "wasm-bindgen $wb_version" ] ||
    die "wasm-bindgen on PATH is $(wasm-bindgen --version), expected $wb_version (is ~/.cargo/bin first on PATH?)"
fi

# --- Node -------------------------------------------------------------------------------------
command -v node >/dev/null || die "node not found: install Node.js 20 or later first"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old: 20 or later is needed"
command -v npm >/dev/null || die "npm not found"

# npm ci only when package-lock.json changed since the last install (or nothing is installed).
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp=node_modules/.loyalty-setup-stamp
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  step "npm ci (devDependencies: binaryen, playwright-core, vite, typescript)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# --- Chromium (browser tests only) --------------------------------------------------------------
if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null; then
  step "apt-get install chromium (Debian's build, driven by playwright-core)"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo_cmd[@]}" apt-get install -y --no-install-recommends chromium; then
    "${sudo_cmd[@]}" apt-get update
    "${sudo_cmd[@]}" apt-get install -y --no-install-recommends chromium
  fi
  command -v chromium >/dev/null || die "chromium still missing after apt-get install"
fi

exit 0

# Shared helpers for the scripts in this folder (sourced, not run).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

# cargo-installed tools (wasm-bindgen) and the npm devDependencies' binaries (wasm-opt, vite, tsc).
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"

if [ -t 1 ]; then
  _bold=$'\033[1m' _red=$'\033[31m' _reset=$'\033[0m'
else
  _bold='' _red='' _reset=''
fi

step() { printf '%s==> %s%s\n' "$_bold" "$*" "$_reset"; }
warn() { printf '%swarning: %s%s\n' "$_red" "$*" "$_reset" >&2; }
die() {
  printf '%serror: %s%s\n' "$_red" "$*" "$_reset" >&2
  exit 1
}

# The exact version after "=" in Cargo.toml's `wasm-bindgen = "=x.y.z"` line.
wasm_bindgen_pinned_version() {
  sed -n 's/^wasm-bindgen *=.*"=\([0-9][0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n1
}

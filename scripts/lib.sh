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

# wait_listening LOGFILE [TENTHS_OF_SECONDS] [PID]: waits for `loyalty serve` to say it listens
# in LOGFILE (its stderr) and prints the base URL; dies with the log when it does not within the
# time (default 10 minutes) or when the process PID ends first.
wait_listening() {
  local log="$1" i
  for i in $(seq 1 "${2:-6000}"); do
    if grep -q "listening on" "$log" 2> /dev/null; then
      sed -n 's/^loyalty serve: listening on //p' "$log" | head -n1
      return 0
    fi
    if [ -n "${3:-}" ] && ! kill -0 "$3" 2> /dev/null; then
      break
    fi
    sleep 0.1
  done
  cat "$log" >&2
  die "the server did not start"
}

# The exact version after "=" in Cargo.toml's `wasm-bindgen = "=x.y.z"` line.
wasm_bindgen_pinned_version() {
  sed -n 's/^wasm-bindgen *=.*"=\([0-9][0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n1
}

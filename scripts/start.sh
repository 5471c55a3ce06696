#!/usr/bin/env bash
# One command on a fresh machine: sets up what the build needs (idempotent), builds the native
# CLI (target/release/loyalty) and the npm package (pkg/), then serves the repository's pages on
# localhost and prints the URL. Ctrl+C stops the server.
#
#   ./scripts/start.sh              # http://localhost:8080/ — the pages' index (the next free port if taken)
#   PORT=9000 ./scripts/start.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

step "setup"
"$ROOT/scripts/setup.sh"
export LOYALTY_SETUP_DONE=1

"$ROOT/scripts/build.sh"

step "serve www/ and pkg/"
exec node scripts/serve.mjs --port "${PORT:-8080}" --host "${HOST:-127.0.0.1}"

#!/usr/bin/env bash
# One command on a fresh machine: sets up what the build needs (idempotent), builds the native
# CLI (target/release/loyalty) and the npm package (pkg/), then runs the server of record,
# `loyalty serve --demo`, on localhost: the demo programme in loyalty-data/loyalty.db (seeded on
# the first run; its credentials in loyalty-data/demo-credentials, printed on every start), the
# pages at / and the package at /pkg/. Ctrl+C (or SIGTERM) stops it after the requests in flight.
# A second run with nothing changed rebuilds nothing.
#
#   ./scripts/start.sh              # http://127.0.0.1:8080/
#   PORT=9000 ./scripts/start.sh
#   LOYALTY_DB_URL=postgres://user:pass@host/db ./scripts/start.sh   # PostgreSQL instead
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

step "setup"
"$ROOT/scripts/setup.sh"
export LOYALTY_SETUP_DONE=1

"$ROOT/scripts/build.sh"

step "loyalty serve --demo"
exec target/release/loyalty serve --demo --listen "${HOST:-127.0.0.1}:${PORT:-8080}" --www www --pkg pkg

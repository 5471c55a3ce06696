#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the tests and benchmarks (Debian's `postgresql`,
# installed when missing). initdb refuses root, so the cluster runs as the `postgres` user in a
# temporary folder, on a free port and a private socket folder, `fsync=off` for speed (the
# durability of the defaults is the server's, not this cluster's).
#
#   eval "$(scripts/pg.sh start)"   # exports LOYALTY_TEST_PG=postgres://postgres@127.0.0.1:PORT/postgres and PG_DIR
#   scripts/pg.sh stop "$PG_DIR"
#
# PG_FSYNC=on keeps fsync (the server benchmark's durable setting). PG_OPTS adds server settings
# (`-c name=value …`), e.g. the bulk-load settings of scripts/bench-import-server.sh.
set -euo pipefail

bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

ensure_installed() {
  if ! bin_dir > /dev/null; then
    echo "pg.sh: installing Debian's postgresql" >&2
    if [ "$(id -u)" = 0 ]; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    else
      (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    fi
  fi
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "${1:-}" in
  start)
    ensure_installed
    BIN="$(bin_dir)"
    DIR="$(mktemp -d /tmp/loyalty-pg.XXXXXX)"
    chmod 755 "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 > "$DIR/initdb.log" 2>&1 ||
      { cat "$DIR/initdb.log" >&2; exit 1; }
    PORT="$(free_port)"
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -o \
      "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=300 -c shared_buffers=256MB ${PG_OPTS:-}" \
      start > /dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    echo "export PG_DIR=$DIR"
    echo "export LOYALTY_TEST_PG=postgres://postgres@127.0.0.1:$PORT/postgres"
    ;;
  stop)
    DIR="${2:?pg.sh stop DIR}"
    BIN="$(bin_dir)"
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop > /dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  *)
    echo "usage: scripts/pg.sh start | stop DIR" >&2
    exit 2
    ;;
esac

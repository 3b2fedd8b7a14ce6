#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the relay's PostgreSQL tests: a temporary data directory,
# listening on 127.0.0.1 only on a free port (its socket in the same directory), run as an
# unprivileged user (PostgreSQL refuses root: as root it runs as the `postgres` user the Debian
# package creates). Its URL is exported as ONSITE_TEST_POSTGRES.
#
#   source scripts/pg.sh; onsite_pg_start   # … cargo test …; then: onsite_pg_stop
#   bash scripts/pg.sh run cargo test --test relay   # start, run the command, stop (also on failure)
#   ONSITE_PG_FSYNC=on bash scripts/pg.sh run …       # fsync on (default off), for benchmarks
#
# scripts/test.sh sources it (the package comes from scripts/deps.sh's apt list).

# The directory of the newest installed PostgreSQL's programs (Debian keeps them off PATH).
onsite_pg_bin() {
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "PostgreSQL is not installed: apt-get install postgresql (scripts/deps.sh does)" >&2
    return 1
  fi
  echo "$dir"
}

# A TCP port on 127.0.0.1 nobody listens on, below the kernel's range of ephemeral ports: a port
# in that range may be the local end of someone's outgoing connection (no listener, so the probe
# below finds it free) and PostgreSQL then cannot bind it.
onsite_pg_free_port() {
  local port low span
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  span=$((low - 10000))
  [ "$span" -gt 1000 ] || span=1000
  for _ in $(seq 1 100); do
    port=$((10000 + RANDOM % span))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found for PostgreSQL" >&2
  return 1
}

# Run a PostgreSQL program as the cluster's owner (from /: the caller's directory, e.g. under
# /root, may be closed to that user).
onsite_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

onsite_pg_start() {
  local bin port
  bin=$(onsite_pg_bin)
  port=$(onsite_pg_free_port)
  ONSITE_PG_DIR=$(mktemp -d -t onsite-pg.XXXXXX)
  [ "$(id -u)" -ne 0 ] || chown postgres: "$ONSITE_PG_DIR"
  onsite_pg_as_owner "$bin/initdb" -D "$ONSITE_PG_DIR/data" -U onsite --auth=trust \
    -E UTF8 --locale=C.UTF-8 --no-instructions >"$ONSITE_PG_DIR/initdb.log" 2>&1 || {
    cat "$ONSITE_PG_DIR/initdb.log" >&2
    return 1
  }
  # fsync off: a test cluster never outlives a crash, and the tests create many databases.
  # ONSITE_PG_FSYNC=on keeps it on (benchmarks, to compare with SQLite's synchronous=FULL).
  local fsync="${ONSITE_PG_FSYNC:-off}"
  onsite_pg_as_owner "$bin/pg_ctl" -D "$ONSITE_PG_DIR/data" -l "$ONSITE_PG_DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $ONSITE_PG_DIR -c max_connections=400 -c fsync=$fsync" \
    start >/dev/null || {
    cat "$ONSITE_PG_DIR/server.log" >&2
    return 1
  }
  export ONSITE_PG_DIR
  export ONSITE_TEST_POSTGRES="postgres://onsite@127.0.0.1:$port/postgres"
  echo "PostgreSQL test cluster at $ONSITE_TEST_POSTGRES (data in $ONSITE_PG_DIR, fsync=$fsync)"
}

onsite_pg_stop() {
  [ -n "${ONSITE_PG_DIR:-}" ] && [ -d "$ONSITE_PG_DIR" ] || return 0
  local bin
  bin=$(onsite_pg_bin)
  onsite_pg_as_owner "$bin/pg_ctl" -D "$ONSITE_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$ONSITE_PG_DIR"
  echo "PostgreSQL test cluster stopped"
  unset ONSITE_PG_DIR ONSITE_TEST_POSTGRES
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    run)
      shift
      trap onsite_pg_stop EXIT
      onsite_pg_start
      "$@"
      ;;
    *)
      echo "usage: bash scripts/pg.sh run <command…>   (or: source scripts/pg.sh; onsite_pg_start)" >&2
      exit 2
      ;;
  esac
fi

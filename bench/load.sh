#!/usr/bin/env bash
# The relay under load (issue 13 §2): builds the release relay and load generator, runs 100,
# 1,000 and 5,000 simulated devices (one fresh relay each, 127.0.0.1 only), writes
# target/load/load-<N>.json and draws docs/load-curves.png.
#   bench/load.sh                      # the three sizes, 60 s measured each
#   bench/load.sh --devices 1000       # one size; any onsite-load flag passes through
#   bench/load.sh --devices 100 --database "$ONSITE_TEST_POSTGRES" --instances 2
#       # on PostgreSQL (a new database per size on that cluster, dropped after), 2 relays on it;
#       # writes target/load/load-<N>-postgres-x2.json (the chart draws the SQLite runs)
set -euo pipefail
cd "$(dirname "$0")/.."
# Every device holds a sync connection and a push stream; the relay holds both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 12000 ]; then
  echo "ulimit -n is $(ulimit -n): 5,000 devices need about 12,000 open files" >&2
fi
target="${CARGO_TARGET_DIR:-target}"
cargo build --release --bin onsite-relay --bin onsite-load
export ONSITE_RELAY_BIN="$target/release/onsite-relay"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--devices 100,1000,5000)
"$target/release/onsite-load" --out "$target/load" "${args[@]}"
node bench/chart.mjs "$target/load" docs/load-curves.png

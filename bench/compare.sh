#!/usr/bin/env bash
# Side by side with automerge-repo (issue 13 §1; results and method in docs/benchmarks.md).
#
#   bash bench/compare.sh           the full run: release relay, 1,000 orders, 10,000 in scenario 5
#   bash bench/compare.sh --smoke   tiny numbers with the debug relay (scripts/test.sh runs it)
#
# Everything listens on 127.0.0.1. Prints one table per scenario (Onsite, reference, ratio) and
# the issue's targets; exits non-zero when either side did not converge. Sizes can be changed
# with ORDERS, SCALE_ORDERS, EDITS and SEED.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
[ "${1:-}" = "--smoke" ] && mode=smoke
target="${CARGO_TARGET_DIR:-target}"

if [ ! -d bench/reference/node_modules ] ||
   [ bench/reference/package-lock.json -nt bench/reference/node_modules/.package-lock.json ]; then
  echo "==> npm install (bench/reference, the versions pinned in package-lock.json)"
  # Not `npm ci`: npm 11 records cbor-extract's per-platform optional packages without their
  # entries, and `npm ci` then refuses the lock as out of sync; `install --no-save` follows the
  # lock and leaves it untouched.
  (cd bench/reference && npm install --no-audit --no-fund --no-save)
fi

if [ "$mode" = smoke ]; then
  : "${ORDERS:=20}" "${SCALE_ORDERS:=200}" "${EDITS:=5}"
  cargo build --bin onsite-relay --bin onsite-compare
  bin="$target/debug"
else
  : "${ORDERS:=1000}" "${SCALE_ORDERS:=10000}" "${EDITS:=50}"
  cargo build --release --bin onsite-relay --bin onsite-compare
  bin="$target/release"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "==> machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uptime | sed 's/.*load/load/')"
echo "==> relay built from $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
"$bin/onsite-compare" generate --orders "$ORDERS" --scale-orders "$SCALE_ORDERS" --edits "$EDITS" \
  --seed "${SEED:-13}" --out "$work/workload.json"
ONSITE_RELAY_BIN="$bin/onsite-relay" "$bin/onsite-compare" run --workload "$work/workload.json"
echo "==> after the run: $(uptime | sed 's/.*load/load/')"

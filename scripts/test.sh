#!/usr/bin/env bash
# The test command (README, .ci/run): installs what it needs, then runs every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
source scripts/pg.sh
export CARGO_TERM_COLOR=never
# A test run from a clean clone gains nothing from incremental caches, which took a third of the
# target dir's disk (session 11's CI ran out of space). Set CARGO_INCREMENTAL=1 to keep them.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Each step prints its duration when the next one starts; a summary of all of them ends the run.
STEP_NAME=""
STEP_START=$SECONDS
TIMINGS=()
duration() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
finish_step() {
  [ -n "$STEP_NAME" ] || return 0
  local took=$((SECONDS - STEP_START))
  echo "<== $STEP_NAME: $(duration "$took")"
  TIMINGS+=("$(duration "$took")  $STEP_NAME")
  STEP_NAME=""
}
step() { finish_step; STEP_NAME="$*"; STEP_START=$SECONDS; echo; echo "==> $*"; }
summary() {
  finish_step
  echo
  echo "step durations:"
  printf '  %s\n' "${TIMINGS[@]}"
  echo "  $(duration "$SECONDS")  total"
}
trap 'rc=$?; onsite_pg_stop; [ "$rc" -eq 0 ] || { echo "FAILED in step: ${STEP_NAME:-setup}"; summary; }' EXIT

# The heavy variant (docs/reliability.md): `ONSITE_HEAVY=1 bash scripts/test.sh` runs the fault
# and property tests at full size (1,000 relay kills, 10,000 partition schedules, …) and fuzzes
# every target; without it they run smoke-sized.
if [ "${ONSITE_HEAVY:-0}" != "0" ]; then
  export ONSITE_HEAVY=1
  export ONSITE_DURABILITY_ITERATIONS="${ONSITE_DURABILITY_ITERATIONS:-2000}"
  export ONSITE_PARTITION_CASES="${ONSITE_PARTITION_CASES:-10000}"
  echo "heavy variant: ONSITE_HEAVY=1"
fi

step "install Debian and npm packages"

onsite_install_apt
onsite_install_npm

step "cargo fmt --check"
cargo fmt --all --check

step "no-IO rule: onsite-domain and onsite-sync link no IO crate"
for krate in onsite-domain onsite-sync; do
  for io in tokio rusqlite reqwest axum hyper tauri mio; do
    if cargo tree -p "$krate" -e normal,build -i "$io" >/dev/null 2>&1 &&
       [ -n "$(cargo tree -p "$krate" -e normal,build -i "$io" 2>/dev/null)" ]; then
      echo "$krate depends on $io:"; cargo tree -p "$krate" -e normal,build -i "$io"
      exit 1
    fi
  done
done
echo "ok"

step "cargo clippy (core crates, relay, tests) -D warnings"
cargo clippy --all-targets -- -D warnings

step "cargo test (core crates, relay on SQLite and PostgreSQL, end-to-end)"
# A throw-away PostgreSQL cluster for the relay's storage suite (stopped by the EXIT trap).
onsite_pg_start
cargo test

if [ "${ONSITE_HEAVY:-0}" != "0" ]; then
  step "fuzz every target for 240 s (heavy variant; nightly cargo-fuzz)"
  bash scripts/fuzz.sh 240
fi

if [ -f ui/package.json ]; then
  step "ui: typecheck, lint, unit tests, build, browser tests"
  (cd ui && npm run check && npm run lint && npm test && npm run test:browser)
fi

# issue 13 §1: both halves of the comparison with tiny numbers and the debug relay; fails when
# either side does not converge (it installs bench/reference itself, at the versions its lockfile pins).
step "bench: side by side with automerge-repo, smoke (bench/compare.sh --smoke)"
bash bench/compare.sh --smoke

if [ -f src-tauri/Cargo.toml ]; then
  step "src-tauri: clippy"
  onsite_install_tauri_driver
  cargo clippy -p onsite-desktop --all-targets --features e2e -- -D warnings
  # The app is compiled once (test profile, feature e2e): the mock-runtime tests, the real-window
  # test and the .deb all use that one build (check-deb.sh builds with the same command, a no-op).
  step "src-tauri: mock-runtime tests and the real-window test (xvfb + tauri-driver + relay)"
  xvfb-run -a cargo test -p onsite-desktop --features e2e
  step "src-tauri: the .deb bundle"
  bash scripts/check-deb.sh
fi

summary
echo
echo "all checks passed"

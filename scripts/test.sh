#!/usr/bin/env bash
# The test command (README, .ci/run): installs what it needs, then runs every check and test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
export CARGO_TERM_COLOR=never
step() { echo; echo "==> $*"; }

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

step "cargo test (core crates, relay, end-to-end)"
cargo test

if [ -f ui/package.json ]; then
  step "ui: typecheck, lint, unit tests, build, browser tests"
  (cd ui && npm run check && npm run lint && npm test && npm run test:browser)
fi

if [ -f src-tauri/Cargo.toml ]; then
  onsite_install_tauri_driver
  step "src-tauri: clippy, mock-runtime tests and the real-window test (xvfb + tauri-driver + relay)"
  cargo clippy -p onsite-desktop --all-targets --features e2e -- -D warnings
  xvfb-run -a cargo test -p onsite-desktop --features e2e
  step "src-tauri: the .deb bundle"
  bash scripts/check-deb.sh
fi

echo
echo "all checks passed"

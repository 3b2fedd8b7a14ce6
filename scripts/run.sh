#!/usr/bin/env bash
# The run command (README): the relay with embedded SQLite and demo data plus the desktop app,
# signed in as a demo technician; where there is no display, the headless demo instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
onsite_install_apt
onsite_install_npm

echo "==> building the headless demo"
cargo build --release -p onsite-cli
exec ./target/release/onsite demo "$@"

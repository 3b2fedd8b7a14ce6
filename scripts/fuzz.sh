#!/usr/bin/env bash
# Fuzz every target of tests/fuzz/ for SECONDS each (default 60), one after the other, one job:
#   scripts/fuzz.sh [seconds-per-target]
# Needs the nightly toolchain (installed); installs cargo-fuzz from crates.io when missing.
# New corpus entries go to tests/fuzz/target/corpus/<target>/ (not committed); the committed
# seeds in tests/fuzz/corpus/<target>/ are read only. A crash stops the run: its input is copied
# to tests/fuzz/crashers/<target>/ — fix the crate at fault, keep the file (the stable test
# `fuzz_replay`, run by plain `cargo test`, replays it), commit both.
set -euo pipefail
SECS="${1:-60}"
cd "$(dirname "$0")/../tests/fuzz"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
TARGETS=(sync_request document signature attachment)
# Release code with overflow checks and debug assertions; 2 GiB of memory per input at most
# (an unbounded allocation is a finding), 30 s per input at most (so is a hang).
cargo +nightly fuzz build -O --debug-assertions
for t in "${TARGETS[@]}"; do
  mkdir -p "target/corpus/$t" "artifacts/$t"
  echo "==> fuzzing $t for ${SECS}s"
  if ! cargo +nightly fuzz run -O --debug-assertions "$t" "target/corpus/$t" "corpus/$t" -- \
      -max_total_time="$SECS" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=30 \
      -print_final_stats=1; then
    mkdir -p "crashers/$t"
    for f in artifacts/"$t"/*; do
      [ -f "$f" ] && cp "$f" "crashers/$t/" && echo "kept crasher: tests/fuzz/crashers/$t/$(basename "$f")"
    done
    echo "FAILED: fuzz target $t found a crasher (kept under tests/fuzz/crashers/$t/)" >&2
    exit 1
  fi
done
echo "fuzzed ${#TARGETS[@]} targets for ${SECS}s each: no crasher"

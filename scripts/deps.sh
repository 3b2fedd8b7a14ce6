#!/usr/bin/env bash
# Installs what Onsite needs on Debian 12 (as root): apt packages and the UI's npm packages.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run again (skips what is present).
set -euo pipefail

ONSITE_APT_PACKAGES=(
  # build
  build-essential pkg-config libssl-dev file curl
  # Tauri 2 on Linux
  libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev
  librsvg2-dev libayatana-appindicator3-dev
  # real-window and browser tests
  xvfb xauth webkit2gtk-driver chromium
  # service record: CJK font for the PDF, pdftoppm to check it
  fonts-noto-cjk poppler-utils
  # the relay's PostgreSQL storage tests (a throw-away cluster, scripts/pg.sh)
  postgresql
)

onsite_install_apt() {
  local missing=()
  for p in "${ONSITE_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> apt-get install ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
      echo "missing Debian packages (${missing[*]}); run as root or install them first" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

onsite_install_npm() {
  if [ -f ui/package-lock.json ]; then
    if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
      echo "==> npm ci (ui)"
      (cd ui && npm ci --no-audit --no-fund)
    fi
  fi
}

# tauri-driver (WebDriver bridge for the real-window test); built from crates.io once.
onsite_install_tauri_driver() {
  export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
  if ! command -v tauri-driver >/dev/null 2>&1; then
    echo "==> cargo install tauri-driver --locked"
    cargo install tauri-driver --version '^2.1' --locked
  fi
}

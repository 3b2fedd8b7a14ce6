#!/usr/bin/env bash
# Builds the desktop app, bundles it as a .deb with the Tauri CLI (ui/node_modules) and checks the
# package: name, dependencies (WebKitGTK, the CJK font the record PDF needs), the binary, the
# desktop entry and the icon. Called by scripts/test.sh; prints the package path.
set -euo pipefail
cd "$(dirname "$0")/.."
# The same build as the test command's `cargo test -p onsite-desktop --features e2e` (same profile,
# features and dev-dependency features), so after the tests this compiles nothing; it leaves the
# app's binary in target/debug/, where `tauri bundle` (which never compiles) picks it up.
cargo test -p onsite-desktop --features e2e --no-run
ui/node_modules/.bin/tauri bundle --debug --bundles deb
target="${CARGO_TARGET_DIR:-target}"
deb=$(ls -t "$target"/debug/bundle/deb/Onsite_*_amd64.deb | head -1)
fail() { echo "check-deb: $*" >&2; exit 1; }
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = onsite ] || fail "package name is '$(field Package)', expected 'onsite'"
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 fonts-noto-cjk; do
  field Depends | grep -q "$dep" || fail "Depends lacks $dep: $(field Depends)"
done
files=$(dpkg-deb -c "$deb")
for f in usr/bin/onsite-desktop usr/share/applications/Onsite.desktop \
         usr/share/icons/hicolor/128x128/apps/onsite-desktop.png; do
  grep -Eq " (\./)?$f\$" <<<"$files" || fail "$f missing from the package"
done
echo "ok: $deb ($(du -h "$deb" | cut -f1))"

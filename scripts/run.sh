#!/usr/bin/env bash
# The run command (README): a relay with embedded SQLite and demo data on 127.0.0.1 plus two
# desktop app windows side by side: the technician's, signed in as the demo technician `tech.a`,
# and the dispatcher's console, signed in as `disp` (a second device with its own data folder),
# so a completion made in the first window arrives in the second. Where there is no display
# (or ONSITE_HEADLESS=1), the headless demo instead: `onsite demo` walks a dispatcher and two
# technicians through an offline completion against a real relay and prints what arrives.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
onsite_install_apt

if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "${ONSITE_HEADLESS:-0}" = 1 ]; then
  echo "==> no display: building and running the headless demo"
  cargo build --release -p onsite-cli
  exec ./target/release/onsite demo "$@"
fi

onsite_install_npm
DATA="${ONSITE_DEMO_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/onsite-demo}"
PORT="${ONSITE_DEMO_PORT:-8750}"
PASSWORD="onsite-demo"
mkdir -p "$DATA"

echo "==> building the relay, the UI and the app"
cargo build --release -p onsite-relay
(cd ui && npm run build)
cargo build --release -p onsite-desktop

RELAY=./target/release/onsite-relay
if [ ! -f "$DATA/relay.sqlite3" ]; then
  ONSITE_RELAY_SEED_PASSWORD="$PASSWORD" "$RELAY" --database "$DATA/relay.sqlite3" seed --orders 8
fi
# The demo's customer messages (maintenance reminders) go through the log sender: they are
# written to the relay's log instead of an SMS/WeChat gateway (docs/webhooks.md).
printf '[outbox]\nmessages = "log"\n' > "$DATA/relay.toml"
"$RELAY" --config "$DATA/relay.toml" --database "$DATA/relay.sqlite3" serve --listen "127.0.0.1:$PORT" &
RELAY_PID=$!
trap 'kill $RELAY_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "==> relay on http://127.0.0.1:$PORT (data in $DATA)"
echo "    opening two windows: the technician app as tech.a and the dispatcher console as disp"
echo "    other demo accounts: tech.b, admin — password: $PASSWORD"
# The dispatcher's window is a second device: its own data folder (XDG_DATA_HOME), so its store,
# session and sync state are separate from the technician's.
XDG_DATA_HOME="$DATA/dispatcher-device" \
  ONSITE_RELAY_URL="http://127.0.0.1:$PORT" ONSITE_USER=disp ONSITE_PASSWORD="$PASSWORD" \
  ./target/release/onsite-desktop &
DISPATCHER_PID=$!
trap 'kill $DISPATCHER_PID $RELAY_PID 2>/dev/null || true' EXIT
ONSITE_RELAY_URL="http://127.0.0.1:$PORT" ONSITE_USER=tech.a ONSITE_PASSWORD="$PASSWORD" \
  ./target/release/onsite-desktop

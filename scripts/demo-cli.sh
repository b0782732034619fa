#!/usr/bin/env bash
# make demo-cli: a simulated Individual Number Card behind the real pcscd, read
# and verified as a counter clerk would see it. Falls back to the in-process
# simulator where pcscd cannot be started (not root, or one already runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/mynakit
[ -x "$bin" ] || go build -o "$bin" ./cmd/mynakit

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" != 0 ] || ! command -v pcscd >/dev/null || pgrep -x pcscd >/dev/null; then
  say "pcscd cannot be started here (needs root and no running pcscd): using the in-process simulator"
  echo 1234 | "$bin" --simulator --pin-stdin read
  exit 0
fi

say "Starting pcscd with the simulated card (vpcd, loopback only)"
scripts/pcscd-sim.sh "$bin" 2>/dev/null &
stack=$!
cleanup() { kill -TERM "$stack" 2>/dev/null || true; wait "$stack" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  "$bin" readers --json 2>/dev/null | grep -q '"card_present": true' && break
  sleep 0.1
done

say "mynakit readers"
"$bin" readers

say "mynakit read   (PIN 1234 typed at the prompt; here through --pin-stdin)"
echo "The simulator's test hierarchy is not J-LIS: a card seen through PC/SC is judged"
echo "against the J-LIS anchors only, so the demo names the test anchors with --trust-dir."
echo 1234 | "$bin" --pin-stdin --trust-dir simulator/testdata/trust read --photo-out /tmp/mynakit-demo-photo.jp2
echo "(photo written to /tmp/mynakit-demo-photo.jp2)"

say "Without the test anchors, the same card is not called genuine"
echo 1234 | "$bin" --pin-stdin verify --only text | tail -1 || true

say "mynakit pin status"
"$bin" pin status

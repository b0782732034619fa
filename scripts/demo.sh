#!/usr/bin/env bash
# make demo: the bridge and its counter page against a simulated Individual
# Number Card behind the real pcscd. Open the printed one-time URL in a
# browser on this PC (or run bin/mynakit open); the PIN is 1234 (signing
# password ABC123). Ctrl-C stops it all.
# Falls back to the in-process simulator where pcscd cannot be started (not
# root, or one already runs). The terminal demo is make demo-cli.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bin/mynakit
[ -x "$bin" ] || go build -o "$bin" ./cmd/mynakit
addr=${MYNAKIT_DEMO_ADDR:-127.0.0.1:7457}
logdir=${MYNAKIT_DEMO_LOG:-/tmp/mynakit-demo-access-log}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

banner() {
  say "窓口画面 counter page: http://$addr/"
  echo "下に表示される一度限りのURLをこのパソコンのブラウザで開くか、別の端末で $bin open を実行してください。"
  echo "Open the one-time URL printed below in a browser on this PC, or run: $bin open"
  echo "暗証番号 PIN: 1234   署名用パスワード signing password: ABC123"
  echo "アクセス記録 access log: $logdir (see: $bin log --access-log $logdir)"
  echo "Ctrl-C で終了 / Ctrl-C stops the demo."
}

if [ "$(id -u)" != 0 ] || ! command -v pcscd >/dev/null || pgrep -x pcscd >/dev/null; then
  say "pcscd cannot be started here (needs root and no running pcscd): the bridge uses the in-process simulator"
  banner
  exec "$bin" --simulator serve --addr "$addr" --access-log "$logdir"
fi

say "Starting pcscd with the simulated card (vpcd, loopback only)"
ctldir=$(mktemp -d)
control="$ctldir/card"
scripts/pcscd-sim.sh "$bin" --control "$control" 2>/dev/null &
stack=$!
cleanup() { kill -TERM "$stack" 2>/dev/null || true; wait "$stack" 2>/dev/null || true; rm -rf "$ctldir"; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do
  "$bin" readers --json 2>/dev/null | grep -q '"card_present": true' && break
  sleep 0.1
done
"$bin" readers

echo
echo "The simulator's test hierarchy is not J-LIS: a card seen through PC/SC is judged"
echo "against the J-LIS anchors only, so the demo names the test anchors with --trust-dir"
echo "(the counter page then warns that the verdict rests on test keys)."
banner
echo "カードを抜く pull the card:     $bin sim pull --control $control"
echo "カードを置く re-insert it:      $bin sim insert --control $control"
"$bin" --trust-dir simulator/testdata/trust serve --addr "$addr" --access-log "$logdir"

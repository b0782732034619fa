#!/usr/bin/env bash
# Run pcscd with the simulated card behind its vpcd driver, reachable from
# loopback only: pcscd and `mynakit sim` share a private network namespace
# whose only interface is its own loopback (Debian's vpcd listens on all
# interfaces of its namespace). Clients on this machine reach pcscd through
# its Unix socket as usual. Stops both on exit.
#
# usage: scripts/pcscd-sim.sh BIN [mynakit sim flags...]
set -euo pipefail
bin=${1:?usage: $0 path/to/mynakit [sim flags]}
shift
conf=$(mktemp -d)
trap 'rm -rf "$conf"' EXIT
cat > "$conf/vpcd" <<CONF
FRIENDLYNAME "mynakit sim"
DEVICENAME   /dev/null:35963
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    35963
CONF
exec unshare --net -- sh -c '
  ip link set lo up || exit 1
  pcscd --foreground -c "$1" >/dev/null 2>&1 &
  pcscd=$!
  trap "kill -TERM \$pcscd \$sim 2>/dev/null; wait" TERM INT EXIT
  bin=$2; shift 2
  "$bin" sim --vpcd 127.0.0.1:35963 "$@" &
  sim=$!
  wait $sim
' sh "$conf" "$bin" "$@"

#!/bin/sh
# dist/check.sh OUT — what make test asks of the release:
#  1. two clean clones of HEAD, at different paths, built one after the
#     other, give the same SHA256SUMS (the first build is left in OUT);
#  2. lintian finds no error in the .deb;
#  3. systemd-analyze verify accepts the user units, without a warning;
#  4. msiinfo lists the MSI's tables with the Run key, the Start-menu
#     shortcut and the files.
set -eu
OUT=${1:?usage: dist/check.sh OUTDIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rev=$(git -C "$SRC" rev-parse HEAD)
start=$(date +%s)
for i in 1 2; do
	git clone -q "$SRC" "$tmp/src$i"
	git -C "$tmp/src$i" checkout -q "$rev"
	"$tmp/src$i/dist/build.sh" "$tmp/out$i" >"$tmp/build$i.log" 2>&1 || { cat "$tmp/build$i.log"; exit 1; }
done
if ! cmp -s "$tmp/out1/SHA256SUMS" "$tmp/out2/SHA256SUMS"; then
	echo "dist-check: two builds of $rev differ:" >&2
	diff "$tmp/out1/SHA256SUMS" "$tmp/out2/SHA256SUMS" >&2 || true
	exit 1
fi
echo "dist-check: two builds of $rev are identical ($(($(date +%s) - start)) s for both):"
cat "$tmp/out1/SHA256SUMS"
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
cp -r "$tmp/out1" "$OUT"

for d in "$OUT"/*.deb; do
	lintian --tag-display-limit 0 "$d" >"$tmp/lintian.log" 2>&1 || true
	if grep -q '^E:' "$tmp/lintian.log"; then
		echo "dist-check: lintian errors in $(basename "$d"):" >&2
		cat "$tmp/lintian.log" >&2
		exit 1
	fi
	echo "dist-check: lintian $(basename "$d"): no errors ($(grep -c '^W:' "$tmp/lintian.log" || true) warnings)"
done
deb=$(ls "$OUT"/mynakit_*_amd64.deb)

# The units as packaged; ExecStart points into the extracted package, since
# systemd-analyze checks that the program exists.
root=$tmp/root
dpkg-deb -x "$deb" "$root"
mkdir -p "$tmp/units" "$tmp/xdg"
chmod 700 "$tmp/xdg"
for u in mynakit.socket mynakit.service; do
	sed "s#/usr/bin/mynakit#$root/usr/bin/mynakit#" "$root/usr/lib/systemd/user/$u" >"$tmp/units/$u"
done
(cd "$tmp/units" && XDG_RUNTIME_DIR=$tmp/xdg systemd-analyze verify --user --man=no ./mynakit.socket ./mynakit.service) >"$tmp/verify.log" 2>&1 ||
	{ cat "$tmp/verify.log" >&2; exit 1; }
if [ -s "$tmp/verify.log" ]; then
	echo "dist-check: systemd-analyze verify warns:" >&2
	cat "$tmp/verify.log" >&2
	exit 1
fi
echo "dist-check: systemd-analyze verify: the user units are accepted"

msi=$(ls "$OUT"/mynakit-*-windows-amd64.msi)
tables=$(msiinfo tables "$msi")
for t in File Component Directory Registry Shortcut RemoveFile; do
	echo "$tables" | grep -qx "$t" || { echo "dist-check: MSI lacks table $t" >&2; exit 1; }
done
msiinfo export "$msi" Registry | grep -q 'Software\\Microsoft\\Windows\\CurrentVersion\\Run	mynakit	"\[INSTALLDIR\]mynakitw.exe" serve' ||
	{ echo "dist-check: MSI lacks the Run key" >&2; msiinfo export "$msi" Registry >&2; exit 1; }
msiinfo export "$msi" Registry | grep -q 'Software\\Google\\Chrome\\NativeMessagingHosts\\eu.webeid		\[INSTALLDIR\]eu.webeid.chrome.json	WebEID' ||
	{ echo "dist-check: MSI lacks the native-messaging host key" >&2; msiinfo export "$msi" Registry >&2; exit 1; }
msiinfo export "$msi" Shortcut | grep -q 'MenuDir	MADOGUCH|mynakit 窓口	CounterPage' ||
	{ echo "dist-check: MSI lacks the Start-menu shortcut" >&2; msiinfo export "$msi" Shortcut >&2; exit 1; }
for f in mynakit.exe mynakitw.exe counter.url LICENSE.txt THIRD_PARTY_LICENSES.txt; do
	msiinfo export "$msi" File | grep -q "	$f	" || { echo "dist-check: MSI lacks $f" >&2; exit 1; }
done
msiinfo suminfo "$msi" | grep -q 'perUser\|Security' # summary readable
echo "dist-check: msiinfo: tables $(echo $tables | tr '\n' ' '); Run key, shortcut and files present"

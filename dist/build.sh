#!/bin/sh
# dist/build.sh OUT — the release artifacts of this checkout, reproducibly:
# the same commit and SOURCE_DATE_EPOCH give the same bytes (make dist-check
# builds twice and compares SHA256SUMS).
#
# On Linux: the amd64 .deb (and arm64 when its cross toolchain and
# libpcsclite are installed), the Windows .zip and .msi, the SBOM, the
# licence bundle and SHA256SUMS. On a Mac: the macOS .tar.gz for the Mac's
# architecture (the PC/SC binding needs cgo and Apple's PCSC framework, so
# it cannot be cross-built from Linux), the SBOM, the licence bundle and
# SHA256SUMS.
#
# Environment: SOURCE_DATE_EPOCH (default: the last commit's time);
# MYNAKIT_SIGN_PKCS12 and MYNAKIT_SIGN_PASS to Authenticode-sign the Windows
# binaries and the MSI with osslsigncode (skipped when unset; a signature
# carries a timestamp, so signed builds are not byte-reproducible).
set -eu

OUT=${1:?usage: dist/build.sh OUTDIR}
SRC=$(cd "$(dirname "$0")/.." && pwd)
GO=${GO:-go}
NFPM="github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0"
CYCLONEDX="github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0"
cd "$SRC"

: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct)}"
export SOURCE_DATE_EPOCH TZ=UTC LC_ALL=C
# The version: v1.2.3 on a tagged commit gives 1.2.3; N commits later
# 1.2.3+git.N.HASH; without a tag 0.0.0+git.N.HASH (N counts all commits);
# uncommitted changes add .dirty.
desc=$(git describe --tags --match 'v[0-9]*' --long --abbrev=12 2>/dev/null || true)
hash=$(git rev-parse --short=12 HEAD)
if [ -n "$desc" ]; then
	tag=${desc%-*-g*}; n=${desc#"$tag"-}; n=${n%%-*}; base=${tag#v}
else
	base=0.0.0; n=$(git rev-list --count HEAD)
fi
if [ "$n" = 0 ]; then VERSION=$base; else VERSION=$base+git.$n.$hash; fi
# A working tree with uncommitted changes says so (the binary's VCS stamp
# has vcs.modified=true too).
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
	case $VERSION in *+*) VERSION=$VERSION.dirty ;; *) VERSION=$VERSION+dirty ;; esac
fi
# Windows Installer compares major.minor.build (build < 65536): vX.Y.Z
# plus N commits is X.Y.(Z*1000+N), so every later build upgrades.
IFS=. read -r major minor patch <<EOF_V
$(echo "$base" | sed 's/[^0-9.].*//')
EOF_V
[ "$n" -gt 999 ] && n_msi=999 || n_msi=$n
MSI_VERSION=${major:-0}.${minor:-0}.$(( (${patch:-0} * 1000 + n_msi) % 65536 ))

rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAGE=$OUT/stage
mkdir -p "$STAGE"
echo "mynakit $VERSION (MSI $MSI_VERSION, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH) -> $OUT"

# gobuild GOOS GOARCH CGO OUTFILE [extra ldflags]: -trimpath, the VCS stamp
# (vcs.revision, vcs.time, vcs.modified) and no local paths.
gobuild() {
	mode=
	[ "$1" = linux ] && mode=-buildmode=pie
	GOOS=$1 GOARCH=$2 CGO_ENABLED=$3 GOFLAGS= $GO build -trimpath -buildvcs=true $mode \
		-ldflags="-s -w ${5:-}" -o "$4" ./cmd/mynakit
}

# Shared pieces: licences and the SBOM.
$GO run ./dist/licenses -o "$OUT/THIRD_PARTY_LICENSES.txt"
GOFLAGS= $GO run "$CYCLONEDX" app -json -noserial -main cmd/mynakit -output "$OUT/mynakit-$VERSION.cdx.json" . 2>"$STAGE/sbom.log" ||
	{ cat "$STAGE/sbom.log"; exit 1; }
$GO run ./dist/pack sbom "$OUT/mynakit-$VERSION.cdx.json"
ARTIFACTS="THIRD_PARTY_LICENSES.txt mynakit-$VERSION.cdx.json"

# docs DIR BIN: man pages (gzip -n) and completions from the commands.
docs() {
	"$2" gen-docs "$1/gen"
	mkdir -p "$1/man" "$1/completions"
	for f in "$1"/gen/man/man1/*.1; do gzip -9n <"$f" >"$1/man/$(basename "$f").gz"; done
	cp "$1"/gen/completions/* "$1/completions/"
	cp -r "$1"/gen/native-messaging "$1/native-messaging"
	rm -rf "$1/gen"
}

# darwin ARCH CGO SUFFIX: the macOS archive (binary, man pages,
# completions, LaunchAgent, licences).
darwin() {
	name=mynakit-$VERSION-darwin-$1$3
	d=$STAGE/$name
	mkdir -p "$d/bin" "$d/LaunchAgents"
	gobuild darwin "$1" "$2" "$d/bin/mynakit"
	if [ "$(uname -s)" = Darwin ]; then docs "$d/share" "$d/bin/mynakit"; else docs "$d/share" "$STAGE/host-mynakit"; fi
	rm -rf "$d/share/native-messaging" # on a Mac: mynakit native-host install
	cp dist/macos/org.mynakit.bridge.plist "$d/LaunchAgents/"
	cp LICENSE NOTICE "$OUT/THIRD_PARTY_LICENSES.txt" "$d/"
	$GO run ./dist/pack tgz "$OUT/$name.tar.gz" "$d" "$name"
	ARTIFACTS="$ARTIFACTS $name.tar.gz"
}

if [ "$(uname -s)" = Darwin ]; then
	darwin "$($GO env GOARCH)" 1 ""
else
	# The PC/SC binding needs cgo and Apple's PCSC framework on macOS, so
	# the real macOS archive is built on a Mac. MYNAKIT_DARWIN_NOPCSC=1
	# builds a labelled archive without PC/SC (simulator and verification
	# only), which exercises the packaging here.
	if [ -n "${MYNAKIT_DARWIN_NOPCSC:-}" ]; then
		GOOS= GOARCH= CGO_ENABLED=0 GOFLAGS= $GO build -o "$STAGE/host-mynakit" ./cmd/mynakit
		darwin arm64 0 -nopcsc
	else
		echo "macOS: not built here; the PC/SC binding needs cgo and Apple's PCSC framework, so run make dist on a Mac" >&2
	fi

	# deb ARCH CC: the Debian package for one architecture.
	deb() {
		s=$STAGE/deb-$1
		mkdir -p "$s"
		CC=$2 gobuild linux "$1" 1 "$s/mynakit"
		docs "$s" "$STAGE/deb-amd64/mynakit"
		printf 'mynakit (%s) unstable; urgency=medium\n\n  * Release built from commit %s.\n\n -- mynakit developers <mynakit@users.noreply.github.com>  %s\n' \
			"$VERSION" "$(git rev-parse HEAD)" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$s/changelog.gz"
		gzip -9n <"$OUT/THIRD_PARTY_LICENSES.txt" >"$s/THIRD_PARTY_LICENSES.txt.gz"
		glibc=$($GO run ./dist/pack glibc "$s/mynakit")
		sed -e "s|\${STAGE}|$s|g; s|\${SRC}|$SRC|g; s|\${DEB_ARCH}|$1|g; s|\${DEB_VERSION}|$VERSION|g; s|\${GLIBC}|$glibc|g" \
			-e "s|\${MTIME}|$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)|g" dist/deb/nfpm.yaml >"$s/nfpm.yaml"
		GOFLAGS= $GO run "$NFPM" package -f "$s/nfpm.yaml" -p deb -t "$OUT/mynakit_${VERSION}_$1.deb" >/dev/null
		ARTIFACTS="$ARTIFACTS mynakit_${VERSION}_$1.deb"
	}
	deb amd64 "${CC:-gcc}"
	# The browser integration (arch all): the Web eID host manifests.
	s=$STAGE/deb-amd64
	printf 'mynakit-browser-integration (%s) unstable; urgency=medium\n\n  * Release built from commit %s.\n\n -- mynakit developers <mynakit@users.noreply.github.com>  %s\n' \
		"$VERSION" "$(git rev-parse HEAD)" "$(date -u -R -d "@$SOURCE_DATE_EPOCH")" | gzip -9n >"$s/changelog-browser.gz"
	sed -e "s|\${STAGE}|$s|g; s|\${SRC}|$SRC|g; s|\${NM}|$s/native-messaging/linux|g; s|\${DEB_VERSION}|$VERSION|g" \
		-e "s|\${MTIME}|$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)|g" dist/deb/nfpm-browser.yaml >"$s/nfpm-browser.yaml"
	GOFLAGS= $GO run "$NFPM" package -f "$s/nfpm-browser.yaml" -p deb -t "$OUT/mynakit-browser-integration_${VERSION}_all.deb" >/dev/null
	ARTIFACTS="$ARTIFACTS mynakit-browser-integration_${VERSION}_all.deb"
	if command -v aarch64-linux-gnu-gcc >/dev/null && [ -e /usr/lib/aarch64-linux-gnu/libpcsclite.so ]; then
		PKG_CONFIG_PATH=/usr/lib/aarch64-linux-gnu/pkgconfig deb arm64 aarch64-linux-gnu-gcc
	else
		echo "arm64 .deb: not built; needs aarch64-linux-gnu-gcc and libpcsclite-dev:arm64 (dpkg --add-architecture arm64)" >&2
	fi

	# Windows: ebfe/scard is pure Go there (winscard.dll), so no cgo.
	w=$STAGE/mynakit-$VERSION-windows-amd64
	mkdir -p "$w"
	gobuild windows amd64 0 "$w/mynakit.exe"
	gobuild windows amd64 0 "$w/mynakitw.exe" "-H=windowsgui"
	if [ -n "${MYNAKIT_SIGN_PKCS12:-}" ]; then
		for exe in mynakit.exe mynakitw.exe; do
			osslsigncode sign -pkcs12 "$MYNAKIT_SIGN_PKCS12" -pass "${MYNAKIT_SIGN_PASS:-}" \
				-n mynakit -h sha256 -in "$w/$exe" -out "$w/$exe.signed"
			mv "$w/$exe.signed" "$w/$exe"
		done
	fi
	cp dist/windows/counter.url "$w/"
	for b in chrome chromium edge firefox; do
		sed 's/$/\r/' "$STAGE/deb-amd64/native-messaging/windows/$b.json" >"$w/eu.webeid.$b.json"
	done
	for f in LICENSE NOTICE; do sed 's/$/\r/' "$f" >"$w/$f.txt"; done
	sed 's/$/\r/' "$OUT/THIRD_PARTY_LICENSES.txt" >"$w/THIRD_PARTY_LICENSES.txt"
	$GO run ./dist/pack zip "$OUT/mynakit-$VERSION-windows-amd64.zip" "$w" "mynakit-$VERSION-windows-amd64"
	ARTIFACTS="$ARTIFACTS mynakit-$VERSION-windows-amd64.zip"

	# The MSI. wixl dates it now and gives it a random package code; pack
	# msi stamps both from SOURCE_DATE_EPOCH and the version. The product
	# code is derived from the version too (one per release).
	uuid() { printf '%s' "$1" | sha256sum | sed -E 's/^(.{8})(.{4}).(.{3}).(.{3})(.{12}).*/\1-\2-5\3-8\4-\5/' | tr a-f A-F; }
	msi=$OUT/mynakit-$VERSION-windows-amd64.msi
	cp dist/windows/mynakit.wxs "$w/"
	find "$w" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	from=$(date +%s)
	(cd "$w" && wixl -a x64 -D Version="$MSI_VERSION" -D ProductCode="$(uuid "product $VERSION")" -o "$msi" mynakit.wxs 2>"$STAGE/wixl.log") ||
		{ cat "$STAGE/wixl.log"; exit 1; }
	printf '\r\n\r\n932\t_ForceCodepage\r\n' >"$STAGE/_ForceCodepage.idt"
	msibuild "$msi" -i "$STAGE/_ForceCodepage.idt"
	to=$(date +%s)
	old=$(msiinfo suminfo "$msi" | sed -n 's/^Revision number (UUID): //p')
	$GO run ./dist/pack msi "$msi" "$old" "{$(uuid "package $VERSION $SOURCE_DATE_EPOCH")}" "$from" "$to" "mynakit-madoguchi-lnk=MADOGUCH|mynakit 窓口"
	if [ -n "${MYNAKIT_SIGN_PKCS12:-}" ]; then
		osslsigncode sign -pkcs12 "$MYNAKIT_SIGN_PKCS12" -pass "${MYNAKIT_SIGN_PASS:-}" \
			-n mynakit -h sha256 -in "$msi" -out "$msi.signed"
		mv "$msi.signed" "$msi"
	else
		echo "Authenticode: not signed (set MYNAKIT_SIGN_PKCS12 to sign)" >&2
	fi
	ARTIFACTS="$ARTIFACTS mynakit-$VERSION-windows-amd64.msi"
fi

rm -rf "$STAGE"
sum=sha256sum
command -v sha256sum >/dev/null || sum="shasum -a 256" # macOS
(cd "$OUT" && $sum $ARTIFACTS >SHA256SUMS)
cat "$OUT/SHA256SUMS"

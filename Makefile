# mynakit — see README.md. `make demo` and `make test` install what they need.

GO          ?= go
# DEMO_PKGS is what make demo runs on (pcscd with the vpcd driver); PKGS
# adds what make test needs (OpenSC, the browser test's Chromium and a CJK
# font, ...).
DEMO_PKGS   := libpcsclite-dev pcscd vsmartcard-vpcd iproute2 util-linux procps pkg-config gcc
PKGS        := libpcsclite-dev pcscd vsmartcard-vpcd opensc openssl iproute2 util-linux procps pkg-config gcc libopenjp2-tools chromium poppler-utils qpdf libnss3-tools fonts-noto-cjk lintian systemd wixl msitools
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOBIN       := $(shell $(GO) env GOPATH)/bin
TESTFLAGS   ?= -count=1 -timeout 20m

# install_pkgs installs the Debian packages of $(1) that are missing.
define install_pkgs
missing=""; for p in $(1); do dpkg-query -W -f='$${db:Status-Status}\n' $$p 2>/dev/null | grep -qx installed || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	  else \
	    echo "missing packages:$$missing"; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi
endef

.PHONY: all build deps deps-system test bench demo demo-cli fuzz lint clean dist dist-check deps-arm64

all: build

# build checks every platform a counter PC may run: Linux with and without
# cgo, Windows (ebfe/scard is pure Go there) and macOS without cgo.
build:
	$(GO) build ./...
	CGO_ENABLED=0 $(GO) build ./...
	GOOS=windows $(GO) build ./...
	GOOS=darwin CGO_ENABLED=0 $(GO) build ./...
	$(GO) build -o bin/mynakit ./cmd/mynakit

# deps installs the system packages the PC/SC stack, the end-to-end tests,
# the OpenSC interop tests and the counter page's browser test (Chromium,
# headless, and a CJK font so Japanese labels render) need, and
# staticcheck; deps-system only the packages (what the demo needs). Root
# installs directly; anyone else is told the exact sudo line.
deps: deps-system
	@$(call install_pkgs,$(PKGS))
	@test -x $(GOBIN)/staticcheck || $(GO) install $(STATICCHECK)

deps-system:
	@$(call install_pkgs,$(DEMO_PKGS))

lint:
	@fmt="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$fmt" ]; then echo "gofmt would change:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...
	$(GOBIN)/staticcheck ./...

# test runs every unit test, then the end-to-end suite (pcscd + vpcd +
# OpenSC) verbosely so the log shows each of its tests ran, not skipped.
test: deps lint build
	$(GO) test $(TESTFLAGS) $$($(GO) list ./... | grep -v '/e2e$$')
	./dist/check.sh dist/out
	MYNAKIT_DIST=$(CURDIR)/dist/out $(GO) test $(TESTFLAGS) -v ./e2e/

# dist builds the release artifacts of the working tree into dist/out:
# the .deb, the Windows .zip and .msi (on a Mac: the macOS .tar.gz), the
# SBOM, the licence bundle and SHA256SUMS. SOURCE_DATE_EPOCH defaults to
# the last commit's time; see README "Install" and dist/build.sh.
dist:
	./dist/build.sh dist/out

# dist-check builds HEAD twice from clean clones at different paths and
# compares SHA256SUMS, then runs lintian on the .deb, systemd-analyze verify
# on the units and msiinfo on the MSI (make test runs it too).
dist-check:
	./dist/check.sh dist/out

# deps-arm64 (root) adds the arm64 architecture and the cross toolchain, so
# that make dist also builds the arm64 .deb. make deps leaves it out: it
# changes the machine's package sources and doubles what make test builds.
deps-arm64:
	dpkg --add-architecture arm64
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross libpcsclite-dev:arm64

# bench prints the read-plan table (APDUs, bytes and modelled time on each
# link profile, beside the minimum for the same data), then runs every Go
# benchmark (simulator APDUs per second in process and through pcscd + vpcd,
# verification CPU, photo decode, QR codes, ...).
bench: deps build
	$(GO) run ./cmd/readbench 2>&1 | tee bench.log
	$(GO) test -run '^$$' -bench . -benchmem ./... 2>&1 | tee -a bench.log

fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg 2>/dev/null | grep ^Fuzz); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
	  done; \
	done

# demo starts the bridge against a simulated card behind pcscd and prints the
# counter page's URL; demo-cli is the terminal demo (read, pin status). Both
# build only the binary they run: lint and the other platforms' builds are
# make test's.
demo: deps-system bin/mynakit
	./scripts/demo.sh

demo-cli: deps-system bin/mynakit
	./scripts/demo-cli.sh

bin/mynakit: FORCE
	$(GO) build -o bin/mynakit ./cmd/mynakit

FORCE:

clean:
	rm -rf bin test.log bench.log dist/out

# Targets for a clean clone on Debian bookworm, run as root (CI) or with sudo
# rights for the apt steps. The integration tests run against three servers:
# Prosody 0.12.3 and ejabberd 23.01 from Debian (`make prosody`, `make
# ejabberd`) and Prosody 13.0.1 from bookworm-backports, unpacked in a cache
# directory (`make prosody13`); `make servers` gets all three. `make
# prometheus` installs Debian's Prometheus for the exporter's end-to-end test.
# None is ever started as a system service: the tests start their own on
# loopback ports.

GO ?= go

# The Go toolchain every target uses: go1.27.3, which the go command fetches
# once from the Go module proxy (the machine's own Go starts it). go1.26.8
# has standard-library vulnerabilities that govulncheck reports (net/http,
# crypto/tls, crypto/x509; fixed in go1.26.9 and go1.26.10, which the proxy
# does not serve here), and the code calls them. Run go by hand with the
# same: export GOTOOLCHAIN=go1.27.3.
export GOTOOLCHAIN ?= go1.27.3
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

# govulncheck needs the Go vulnerability database, and the only network a
# developer's machine and CI have is the Go module proxy. The database is a
# Go module there: golang.org/x/vulndb keeps every report as an OSV file in
# data/osv, and govulncheck reads a directory of OSV files given as
# -db file://DIR (it builds the index itself). Both are pinned, so that a
# lint run says the same thing on every machine; to see newer reports, set
# VULNDB_VERSION to a newer pseudo-version of golang.org/x/vulndb (go list -m
# golang.org/x/vulndb@master names the newest).
GOVULNCHECK ?= $(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Where `make prosody13` unpacks Prosody 13, and where the test harness
# (internal/servertest) looks for it: $XDG_CACHE_HOME/xmppconn, or
# ~/.cache/xmppconn. Kept across clones; `rm -rf` it to fetch again.
XMPPCONN_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/xmppconn
export XMPPCONN_CACHE

.PHONY: all servers prosody prosody13 ejabberd prometheus build test fuzz demo bench lint soak

all: lint test

servers: prosody prosody13 ejabberd

# apt_install installs Debian packages unless they are there: $(1) names the
# daemon, $(2) the packages; the rest of the line after the call is the
# shell test that says they are installed. policy-rc.d (exit 101) keeps
# apt's maintainer scripts from starting the daemon: it is created only
# when missing and removed only if we created it; a daemon that started
# anyway under systemd is stopped.
define apt_install
	set -e; \
	created=; \
	if [ ! -e /usr/sbin/policy-rc.d ]; then \
		printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null; \
		$(SUDO) chmod 755 /usr/sbin/policy-rc.d; \
		created=1; \
	fi; \
	trap '[ -z "$$created" ] || $(SUDO) rm -f /usr/sbin/policy-rc.d' EXIT; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update; \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(2); \
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet $(1) 2>/dev/null; then \
		$(SUDO) systemctl stop $(1); \
	fi
endef

# Prosody 0.12.3 and prosody-modules from Debian bookworm.
prosody:
	@if command -v prosody >/dev/null 2>&1 && \
	    dpkg-query -W -f='$${Status}' prosody-modules 2>/dev/null | grep -q 'install ok installed'; then \
		echo "prosody: already installed"; \
	else \
		$(call apt_install,prosody,prosody prosody-modules); \
		if [ -r /run/prosody/prosody.pid ] && $(SUDO) kill -0 "$$(cat /run/prosody/prosody.pid)" 2>/dev/null; then \
			$(SUDO) kill "$$(cat /run/prosody/prosody.pid)"; \
		fi; \
	fi

# ejabberd 23.01 from Debian bookworm (the harness runs it on the Erlang VM
# directly, without ejabberdctl).
ejabberd:
	@if dpkg-query -W -f='$${Status}' ejabberd 2>/dev/null | grep -q 'install ok installed'; then \
		echo "ejabberd: already installed"; \
	else \
		$(call apt_install,ejabberd,ejabberd); \
	fi

# Prometheus from Debian bookworm, for the exporter's end-to-end test
# (cmd/xmppconn): the test starts its own on a loopback port with a
# generated configuration and a temporary storage directory. Like the
# servers, it is never run as a system service.
prometheus:
	@if command -v prometheus >/dev/null 2>&1; then \
		echo "prometheus: already installed"; \
	else \
		$(call apt_install,prometheus,prometheus); \
	fi

# Prosody 13.0.1 and the matching prosody-modules snapshot from
# bookworm-backports, pinned by version and SHA-256 (amd64). apt-get
# download runs with an apt state of its own (sources.list, lists and cache
# under $(PROSODY13)/apt): the system's apt configuration is never changed.
# The packages are unpacked with dpkg -x into $(PROSODY13)/root, and
# $(PROSODY13)/prosody is a copy of their launcher whose CFG_* paths point
# into that tree. It runs on the lua5.4 and Lua libraries that `make
# prosody` installs. When backports moves on and drops these versions,
# update the pins.
PROSODY13 = $(XMPPCONN_CACHE)/prosody13
PROSODY13_PIN = prosody=13.0.1-1~bpo12+1 prosody-modules=0.0~hg20250402.f315edc39f3d+dfsg-1~bpo12+1
PROSODY13_SHA256 = \
	08ecfab4967bc021e2264dd7756b9b29e9cec861b75aa346d956a2149c6dff27 prosody_13.0.1-1~bpo12+1_amd64.deb \
	147ae335c2b16fdee53a1842eb7e3d014907c3e2fb94965185150295f3f74db6 prosody-modules_0.0~hg20250402.f315edc39f3d+dfsg-1~bpo12+1_all.deb
PROSODY13_APT = apt-get -q \
	-o Dir::Etc::SourceList=$(PROSODY13)/apt/sources.list \
	-o Dir::Etc::SourceParts=/dev/null \
	-o Dir::State::Lists=$(PROSODY13)/apt/lists \
	-o Dir::Cache=$(PROSODY13)/apt/cache \
	$(if $(SUDO),,-o APT::Sandbox::User=root)

prosody13: prosody
	@set -e; dir='$(PROSODY13)'; stamp='$(PROSODY13_PIN)'; \
	if [ -x "$$dir/prosody" ] && [ "$$(cat "$$dir/stamp" 2>/dev/null)" = "$$stamp" ]; then \
		echo "prosody13: already in $$dir"; exit 0; \
	fi; \
	rm -rf "$$dir"; \
	mkdir -p "$$dir/apt/lists/partial" "$$dir/apt/cache/archives/partial" "$$dir/debs"; \
	echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main' \
		>"$$dir/apt/sources.list"; \
	$(PROSODY13_APT) update; \
	(cd "$$dir/debs" && $(PROSODY13_APT) download $(PROSODY13_PIN)); \
	printf '%s  %s\n' $(PROSODY13_SHA256) | (cd "$$dir/debs" && sha256sum --strict -c -); \
	for deb in "$$dir"/debs/*.deb; do dpkg -x "$$deb" "$$dir/root"; done; \
	root="$$dir/root"; \
	sed -e "s|^CFG_SOURCEDIR=.*|CFG_SOURCEDIR='$$root/usr/lib/prosody';|" \
	    -e "s|^CFG_PLUGINDIR=.*|CFG_PLUGINDIR='$$root/usr/lib/prosody/modules/';|" \
	    -e "s|^CFG_CONFIGDIR=.*|CFG_CONFIGDIR='$$root/etc/prosody';|" \
	    -e "s|^CFG_DATADIR=.*|CFG_DATADIR='$$dir/data';|" \
	    "$$root/usr/bin/prosody" >"$$dir/prosody.new"; \
	grep -q "^CFG_SOURCEDIR='$$root/" "$$dir/prosody.new"; \
	chmod 755 "$$dir/prosody.new"; mv "$$dir/prosody.new" "$$dir/prosody"; \
	echo "$$stamp" >"$$dir/stamp"; \
	echo "prosody13: $$(cat "$$root/usr/lib/prosody/prosody.version") in $$dir"

build:
	$(GO) build -o bin/xmppconn ./cmd/xmppconn

# Unit and integration tests, then a short fuzz run of a few fuzz targets
# (`make fuzz` runs them all; go test runs every target's seed corpus in
# testdata/fuzz). The suite runs twice: with the race detector against
# Prosody 0.12 (it finds races in our code whichever server answers), then
# without it against Prosody 13 and ejabberd (XMPPCONN_SERVER picks the
# servers; docs/servers.md lists how they differ). The hostile suite talks to
# fake servers only and bounds every step to a few hundred milliseconds: it
# runs once, with the race detector, alone, so that no other test binary
# takes the cores it times itself on. The fuzz runs are bounded by a count of
# inputs (a few seconds each here), not by time: with a time bound, Go's
# fuzz coordinator can report its own deadline as a failure ("context
# deadline exceeded") when it ends, having found nothing. Override it as
# `make fuzz FUZZ_INPUTS=200000x`.
FUZZ_INPUTS = 20000x
test: servers prometheus
	$(GO) vet ./...
	XMPPCONN_SERVER=prosody12 $(GO) test -race -count=1 $$($(GO) list ./... | grep -v /internal/hostile)
	$(GO) test -race -count=1 ./internal/hostile
	XMPPCONN_SERVER=prosody13,ejabberd $(GO) test -count=1 $$($(GO) list ./... | grep -v /internal/hostile)
	$(GO) test -run='^$$' -fuzz='^FuzzReadToken$$' -fuzztime=$(FUZZ_INPUTS) ./auth
	$(GO) test -run='^$$' -fuzz='^FuzzParseXRD$$' -fuzztime=$(FUZZ_INPUTS) ./transport
	$(GO) test -run='^$$' -fuzz='^FuzzParseHostMetaJSON$$' -fuzztime=$(FUZZ_INPUTS) ./transport
	$(GO) test -run='^$$' -fuzz='^FuzzStartTag$$' -fuzztime=$(FUZZ_INPUTS) ./internal/xmlframe
	$(GO) test -run='^$$' -fuzz='^FuzzCheck$$' -fuzztime=$(FUZZ_INPUTS) ./internal/xmlframe

# Every fuzz target of every package, found with go test -list (so that a new
# one is never left out), FUZZ_INPUTS inputs each: go test fuzzes one target
# of one package at a time. An input that fails is written to the package's
# testdata/fuzz/TARGET, where go test runs it from then on.
fuzz:
	@set -e; \
	for pkg in $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
		list=$$($(GO) test -list='^Fuzz' $$pkg); \
		targets=$$(echo "$$list" | grep '^Fuzz' || true); \
		for target in $$targets; do \
			echo "fuzz: $$pkg $$target"; \
			$(GO) test -run='^$$' -fuzz="^$$target$$" -fuzztime=$(FUZZ_INPUTS) $$pkg; \
		done; \
	done

demo: prosody build
	$(GO) run ./internal/cmd/demo ./bin/xmppconn

# go test benchmarks, then the side-by-side run (xmppconn vs mellium's raw
# client, interleaved, one fresh Prosody): see docs/performance.md.
bench: prosody
	$(GO) test -run='^$$' -bench=. -benchmem ./...
	$(GO) run ./internal/cmd/benchcmp

# The soak (docs/soak.md): SOAK_SESSIONS sessions against a fresh local
# Prosody for SOAK, with pings, messages and network cuts. Heavy and long:
# never part of `make test`. Override as `make soak SOAK=1h`.
SOAK ?= 10m
SOAK_SESSIONS ?= 1000

soak: prosody
	XMPPCONN_SOAK=$(SOAK) XMPPCONN_SOAK_SESSIONS=$(SOAK_SESSIONS) $(GO) test -count=1 -timeout=0 -run='^TestSoak$$' -v ./internal/soak/

# Formatting, vet, staticcheck, then govulncheck: it fails when the code
# calls a known vulnerability of a dependency or of the standard library of
# the Go in use, and names the fixed version.
lint:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@db="$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p')"; \
	if [ ! -d "$$db/data/osv" ]; then echo "govulncheck: no database: golang.org/x/vulndb@$(VULNDB_VERSION) has no data/osv"; exit 1; fi; \
	echo "govulncheck: database golang.org/x/vulndb@$(VULNDB_VERSION) ($$(ls "$$db/data/osv" | wc -l) reports)"; \
	$(GOVULNCHECK) -db "file://$$db/data/osv" ./...

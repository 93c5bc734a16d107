# Targets for a clean clone on Debian/Ubuntu, run as root (CI) or with sudo
# rights for `make prosody`. Integration tests need a local Prosody; `make
# prosody` installs it from apt without ever starting a system-wide server.

GO ?= go
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

.PHONY: all prosody build test fuzz demo bench lint soak

all: lint test

# Install prosody and prosody-modules when missing. policy-rc.d (exit 101)
# keeps apt's maintainer scripts from starting the daemon; we remove it only
# if we created it, and stop any prosody daemon that started anyway.
prosody:
	@if command -v prosody >/dev/null 2>&1 && \
	    dpkg-query -W -f='$${Status}' prosody-modules 2>/dev/null | grep -q 'install ok installed'; then \
		echo "prosody: already installed"; \
	else \
		set -e; \
		created=; \
		if [ ! -e /usr/sbin/policy-rc.d ]; then \
			printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null; \
			$(SUDO) chmod 755 /usr/sbin/policy-rc.d; \
			created=1; \
		fi; \
		trap '[ -z "$$created" ] || $(SUDO) rm -f /usr/sbin/policy-rc.d' EXIT; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prosody prosody-modules; \
		if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prosody 2>/dev/null; then \
			$(SUDO) systemctl stop prosody; \
		fi; \
		if [ -r /run/prosody/prosody.pid ] && $(SUDO) kill -0 "$$(cat /run/prosody/prosody.pid)" 2>/dev/null; then \
			$(SUDO) kill "$$(cat /run/prosody/prosody.pid)"; \
		fi; \
	fi

build:
	$(GO) build -o bin/xmppconn ./cmd/xmppconn

# Fuzz runs are bounded by a count of inputs (a few seconds each here), not
# by time: with a time bound, Go's fuzz coordinator can report its own
# deadline as a failure ("context deadline exceeded") when it ends, having
# found nothing. Override it as `make fuzz FUZZ_INPUTS=200000x`.
FUZZ_INPUTS = 20000x

# Unit, integration (real Prosody) and race tests in one run; go test also
# runs every fuzz target's seed corpus (testdata/fuzz). A short fuzz run of a
# few targets goes after the go test line; `make fuzz` runs them all.
test: prosody
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...
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

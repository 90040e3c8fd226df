# nstopo: `make demo` shows it working, `make test` proves it. Both run as root on Debian.
SWIFT ?= swift
APT_PACKAGES := libnl-3-dev libnl-route-3-dev libnftables-dev graphviz busybox-static pkg-config iproute2 iptables procps
BIN := .build/release/nstopo

BENCH_PACKAGES := time python3 netcat-openbsd busybox-static

.PHONY: all deps build release test unit fuzz fuzz-import demo bench install clean

all: build

# Installs the Debian packages that are missing (needs root and apt).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "nstopo: installing$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "nstopo: run as root, or: apt-get install$$missing" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Unit tests (no root) and integration tests against the real kernel (root), a leak check,
# a short seeded fuzz pass, and the benchmark's smoke run (star-10 once) so that it does not rot.
# make test also installs a browser (the HTML report is checked in headless Chromium), and
# tmux with zsh and fish (completion is checked in each shell, with hostile file names).
TEST_PACKAGES := chromium tmux zsh fish
test: deps
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "nstopo: installing$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	@sh scripts/check-pure.sh
	$(SWIFT) build
	$(SWIFT) test
	@sh scripts/check-leftovers.sh
	$(MAKE) fuzz COUNT=20000 SLOW=3
	$(MAKE) fuzz-import COUNT=20000 SLOW=3
	$(MAKE) bench QUICK=1
	@sh scripts/check-install.sh
	@sh scripts/check-completion.sh .build/debug/nstopo
	@python3 scripts/check-clab-schema.py .build/debug/nstopo

# The language fuzzer: COUNT seeded inputs (default 1,000,000; SEED=1), token soups and mutated
# examples through what validate and plan do. Fails on any crash, any input over SLOW seconds of
# CPU (default 1) or 200 MB; each such input is saved in fuzz-out/ (replay: nstopo-fuzz --replay
# FILE). make test's short pass allows 3 s: a hang detector there, not a speed figure.
fuzz: deps
	$(SWIFT) build -c release --product nstopo-fuzz
	.build/release/nstopo-fuzz --count $(or $(COUNT),1000000) --seed $(or $(SEED),1) --slow $(or $(SLOW),1) --corpus topologies --out fuzz-out

# Unit tests only: no root, no kernel.
unit:
	@sh scripts/check-pure.sh
	$(SWIFT) test --skip IntegrationTests

# The importer's fuzzer: the same for `nstopo import` (YAML token soups and mutated
# containerlab files; crashes, inputs over SLOW seconds of CPU or 200 MB). Replay a saved
# input: nstopo-fuzz --import --replay FILE.
fuzz-import: deps
	$(SWIFT) build -c release --product nstopo-fuzz
	.build/release/nstopo-fuzz --import --count $(or $(COUNT),1000000) --seed $(or $(SEED),1) --slow $(or $(SLOW),1) \
	  --corpus Tests/ContainerlabTests/Fixtures --corpus Tests/ContainerlabTests/Fixtures/fuzz --out fuzz-out

demo: release
	@sh scripts/demo.sh $(BIN)

# Benchmarks against ip -batch and the tutorial's way (not a test). QUICK=1: star-10 once.
# PEERS=1 also measures Mininet (installs Debian's mininet). Writes bench/results/latest.md.
bench: release
	@missing=""; for p in $(BENCH_PACKAGES) $(if $(PEERS),mininet bridge-utils iputils-ping,); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	python3 bench/run.py $(if $(QUICK),--quick,) $(if $(PEERS),--peers,)

# Installs the binary, the man page and the bash, zsh and fish completions under
# $(DESTDIR)$(PREFIX) (default /usr/local), as packagers expect.
PREFIX ?= /usr/local
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/nstopo
	install -d $(DESTDIR)$(PREFIX)/share/doc/nstopo/examples
	install -m 644 topologies/*.topo $(DESTDIR)$(PREFIX)/share/doc/nstopo/examples/
	python3 scripts/manpage.py $(BIN) README.md > $(DESTDIR)$(PREFIX)/share/man/man1/nstopo.1
	$(BIN) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/nstopo
	$(BIN) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_nstopo
	$(BIN) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/nstopo.fish

clean:
	rm -rf .build demo.svg demo.json demo.html fuzz-out

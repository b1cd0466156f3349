# wsrouter — make targets. `make test` is exactly what CI runs.
GO      ?= go
BIN     ?= bin
PKGS    := ./...

.PHONY: all build run test test-go test-js fmt vet lint bench bench-scale fuzz soak clean

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

# VERSION is stamped into the binary (wsrouter -version): the nearest tag,
# commits since and the commit, from git describe; "dev" outside a checkout.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

all: build

## build: bin/wsrouter, stamped with VERSION.
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/wsrouter ./cmd/wsrouter

## run: the books demo: the example app and the router (config.example.yaml,
## embedded Redis); prints the URL to open.
run:
	scripts/run-example.sh

## test: formatting, vet, staticcheck, every Go test with the race
## detector, and the JavaScript client's tests.
test: fmt vet lint test-go test-js

test-go:
	@if command -v redis-server >/dev/null 2>&1; then \
		echo "test: Redis tests use a real redis-server from PATH ($$(command -v redis-server))"; \
	else echo "test: no redis-server on PATH; Redis tests use the embedded Redis"; fi
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

## test-js: the JavaScript client's tests (Node 20+), with its tsc --strict
## check when npm can install TypeScript, then `npm pack` into $(BIN).
test-js: build
	@if ! command -v node >/dev/null 2>&1; then \
		echo "test-js: node not found; skipping the JavaScript client tests"; exit 0; fi; \
	if command -v npm >/dev/null 2>&1 && [ ! -f clients/js/node_modules/typescript/bin/tsc ]; then \
		(cd clients/js && npm ci --no-audit --no-fund --loglevel=error) || \
		echo "test-js: npm ci failed (offline?); the type check will say it skipped"; fi; \
	WSROUTER_BIN=$(BIN)/wsrouter node --experimental-websocket --test clients/js/test/ && \
	if command -v npm >/dev/null 2>&1; then \
		(cd clients/js && npm pack --ignore-scripts --silent --pack-destination $(abspath $(BIN))) | sed 's|^|test-js: packed $(BIN)/|'; \
	else echo "test-js: npm not found; skipping npm pack"; fi

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

lint:
	$(GO) run $(STATICCHECK) $(PKGS)

## bench: compare wsrouter with the reference server (see docs/BENCHMARKS.md).
bench:
	scripts/bench.sh

## bench-scale: opt-in; how costs grow from 1,000 to 100,000 connections and
## what compression costs (see docs/BENCHMARKS.md); needs an open-file hard
## limit above the largest size.
bench-scale:
	scripts/bench-scale.sh

## fuzz: run every fuzz target for FUZZTIME each (make fuzz FUZZTIME=5m);
## `make test` runs only their seed corpora.
FUZZTIME      ?= 30s
FUZZ_PARALLEL ?= 1
FUZZ_TARGETS  := ./router:FuzzDecodeEvent ./router:FuzzSessionFrames ./router:FuzzPublication \
                 ./services:FuzzParse ./services:FuzzDuration ./internal/redact:FuzzURL ./api:FuzzPublish \
                 ./auth:FuzzMatchAgreesWithRedis
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) \
			-fuzzminimizetime 10s -parallel $(FUZZ_PARALLEL) $$pkg; \
	done

## soak: churn clients against a fresh router and Redis for SOAK_DURATION
## (default 10m; make soak SOAK_DURATION=2m) and check nothing is lost and
## goroutines and RSS come back; see cmd/wssoak.
SOAK_DURATION ?= 10m
soak:
	DURATION=$(SOAK_DURATION) scripts/soak.sh

clean:
	rm -rf $(BIN)

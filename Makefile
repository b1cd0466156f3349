# wsrouter — make targets. `make test` is exactly what CI runs.
GO      ?= go
BIN     ?= bin
PKGS    := ./...

.PHONY: all build run test test-go test-js fmt vet bench fuzz soak clean

all: build

build:
	$(GO) build -o $(BIN)/wsrouter ./cmd/wsrouter

## run: the books demo: the example app and the router (config.example.yaml,
## embedded Redis); prints the URL to open.
run:
	scripts/run-example.sh

## test: formatting, vet, every Go test with the race detector, and the
## JavaScript client's tests.
test: fmt vet test-go test-js

test-go:
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

test-js: build
	@if command -v node >/dev/null 2>&1; then \
		WSROUTER_BIN=$(BIN)/wsrouter node --experimental-websocket --test clients/js/test/; \
	else echo "test-js: node not found; skipping the JavaScript client tests"; fi

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

## bench: compare wsrouter with the reference server (see docs/BENCHMARKS.md).
bench:
	scripts/bench.sh

clean:
	rm -rf $(BIN)

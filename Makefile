# wsrouter — make targets. `make test` is exactly what CI runs.
GO      ?= go
BIN     ?= bin
PKGS    := ./...

.PHONY: all build run test fmt vet bench fuzz soak clean

all: build

build:
	$(GO) build -o $(BIN)/wsrouter ./cmd/wsrouter

## run: start the router with config.example.yaml on the embedded Redis.
run: build
	@echo "wsrouter: ws://127.0.0.1:9000/  metrics: http://127.0.0.1:9100/metrics"
	$(BIN)/wsrouter -config config.example.yaml

## test: formatting, vet, and every test with the race detector.
test: fmt vet
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

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

# sawtooth — common tasks. `make help` lists them.

GO        ?= go
BIN       := bin/sawtooth
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
SCENARIO  ?= quickstart

.PHONY: help build install test demo bench aa calibrate lint deps fuzz report-shot clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/sawtooth
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sawtooth

install: ## install sawtooth into $(go env GOPATH)/bin (put it on PATH), with its version
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/sawtooth

test: ## vet and run every test, count the skipped ones, then the loop model's calibration alone (real gunicorn/uvicorn tests need `make deps`)
	$(GO) vet ./...
	$(GO) build -o bin/testsum ./internal/testsum
	bash -o pipefail -c '$(GO) test -count=1 -timeout 12m -json ./... | ./bin/testsum'
	@# deploy/kubernetes is its own module (k8s.io/api stays out of sawtooth's).
	cd deploy/kubernetes && $(GO) vet ./... && $(GO) test -count=1 ./...
	@# Last and alone: it measures p99s that other tests beside it would disturb.
	$(MAKE) calibrate

demo: build ## run the quickstart scenario on the built-in server and show its report
	./$(BIN) run $(SCENARIO)

bench: build ## run the benchmarks, about 17 minutes (see BENCHMARKS.md; make deps first)
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...
	@for s in bench/*.sh; do [ "$$s" = bench/aa.sh ] && continue; echo "== $$s"; bash "$$s" || exit 1; done
	@echo "== bench/loop (through sawtooth serve)"; $(GO) run ./bench/loop -duration 30s -sawtooth $(BIN)
	@echo "== bench/loop -calibrate (the loop model against uvicorn)"; $(GO) run ./bench/loop -calibrate -sawtooth $(BIN)

aa: build ## the A/A study of compare's gate, about 22 minutes (bench/aa.sh; BENCHMARKS.md)
	bash bench/aa.sh

calibrate: ## the loop model against real uvicorn, about 4 minutes, run by make test after the rest (make deps first; docs/loop.md)
	SAWTOOTH_CALIBRATE=1 $(GO) test -count=1 -v -run TestLoopModelCalibratedAgainstUvicorn ./integration

lint: ## gofmt, go vet and go mod tidy
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	cd deploy/kubernetes && $(GO) vet ./... && $(GO) mod tidy -diff

deps: ## install gunicorn, uvicorn, Flask, FastAPI, wrk from Debian (idempotent)
	bash scripts/deps.sh

fuzz: ## fuzz the scenario loader for 60s
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 60s -fuzzminimizetime 5s ./scenarios

report-shot: build ## render the newest run's report.html to report-shot.png with headless Chromium
	bash scripts/report-shot.sh

clean: ## remove build output
	rm -rf bin

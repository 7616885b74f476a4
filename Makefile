# Honten — the two commands are `make run` and `make test`.
# Without DATABASE_URL both use a private PostgreSQL cluster under .data/pg,
# started on demand from the local PostgreSQL binaries (see README).

GO        ?= go
FUZZTIME  ?= 3s
BENCHTIME ?= 10s

.PHONY: run test vet unit fuzz build bench fleet fleet-bench db-start db-stop db-url clean

## run: start Honten (all roles) on :8080 with the demo store.
run:
	$(GO) run ./cmd/honten serve --demo

## test: vet, the whole suite with the race detector, then each fuzz target briefly.
test: vet unit fuzz

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

# Two phases: the packages that start whole processes, browsers or other
# servers (HEAVY) run after the rest, one at a time, so that they share the
# two cores with nothing else and never kill or restart what another
# package's test is using.
HEAVY = ./internal/demo ./internal/chaos ./internal/fleet ./http/uitest ./eventstore/jetstream

unit:
	$(GO) test -race -count=1 -timeout 30m $$($(GO) list ./... | grep -v -x -F $(patsubst ./%,-e github.com/honten/honten/%,$(HEAVY)))
	$(GO) test -race -count=1 -timeout 30m -p 1 $(HEAVY)

## fuzz: run every committed fuzz target for FUZZTIME each.
fuzz:
	@set -e; log=$$(mktemp); for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./.data/' | sort); do \
	  pkg=$$(dirname $$f); \
	  for name in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
	    echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
	    if ! $(GO) test $$pkg -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) > $$log 2>&1; then \
	      if grep -q 'Failing input written' $$log; then cat $$log; rm -f $$log; exit 1; fi; \
	      echo "  (fuzz engine hiccup without a failing input; retrying once)"; \
	      $(GO) test $$pkg -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) > $$log 2>&1 || { cat $$log; rm -f $$log; exit 1; }; \
	    fi; \
	  done; \
	done; rm -f $$log

build:
	$(GO) build -o bin/honten ./cmd/honten

## bench: the event store benchmark (others: go run ./cmd/honten bench <name>).
bench:
	$(GO) run ./cmd/honten bench eventstore -duration $(BENCHTIME)

## fleet: two API processes behind HAProxy on 127.0.0.1:8080 and two worker
## processes (one active, one standing by); Ctrl-C stops them. HAProxy is
## installed with apt when missing (as root). FLEET_FLAGS=--replica adds a
## streaming replica for the API processes' reads.
fleet: build
	./bin/honten fleet $(FLEET_FLAGS)

## fleet-bench: checkout throughput of one process beside the fleet, same run.
fleet-bench: build
	./bin/honten fleet bench $(FLEET_FLAGS)

db-start:
	$(GO) run ./cmd/honten db start
db-stop:
	$(GO) run ./cmd/honten db stop
db-url:
	@$(GO) run ./cmd/honten db url

clean:
	rm -rf bin

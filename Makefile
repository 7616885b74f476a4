# Honten — the two commands are `make run` and `make test`.
# Without DATABASE_URL both use a private PostgreSQL cluster under .data/pg,
# started on demand from the local PostgreSQL binaries (see README).

GO        ?= go
FUZZTIME  ?= 3s
BENCHTIME ?= 10s

.PHONY: run test vet unit fuzz build bench db-start db-stop db-url clean

## run: start Honten (all roles) on :8080 with the demo store.
run:
	$(GO) run ./cmd/honten serve --demo

## test: vet, the whole suite with the race detector, then each fuzz target briefly.
test: vet unit fuzz

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

unit:
	$(GO) test -race -count=1 -timeout 30m ./...

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

db-start:
	$(GO) run ./cmd/honten db start
db-stop:
	$(GO) run ./cmd/honten db stop
db-url:
	@$(GO) run ./cmd/honten db url

clean:
	rm -rf bin

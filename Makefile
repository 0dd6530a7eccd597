# Réso — make help lists the targets.
GO ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help test test-short lint bench cover run

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

test: ## run every test (PostgreSQL tests skip when no server answers, unless CI is set)
	$(GO) test -count=1 ./...

test-short: ## the fast tests only
	$(GO) test -short -count=1 ./...

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

cover: ## domain coverage (must stay >= 90%)
	$(GO) test -count=1 -cover ./domain/...

bench: ## Go benchmarks (go run ./cmd/reso-bench holds the end-to-end ones)
	$(GO) test -run '^$$' -bench . -benchmem ./...

run: ## the server on the embedded default with demo data
	$(GO) run ./cmd/reso serve --demo

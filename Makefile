# storectl — build, test and run against the local sandbox cluster.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

GO        ?= go
BIN       ?= bin/storectl
E2E_BIN   ?= bin/storectl-e2e
# The version is the tag at HEAD, else the last tag with -dev (dev without tags); the commit,
# with -dirty for uncommitted changes, is COMMIT's alone, so `storectl version` shows it once.
VERSION   ?= $(shell git describe --tags --exact-match 2>/dev/null || \
	{ t=$$(git describe --tags --abbrev=0 2>/dev/null) && echo "$$t-dev"; } || echo dev)
COMMIT    ?= $(shell c=$$(git rev-parse --short HEAD 2>/dev/null) || c=unknown; \
	git diff --quiet HEAD 2>/dev/null || c=$$c-dirty; echo "$$c")
DATE      ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS   := -s -w \
	-X github.com/storectl/storectl/pkg/cli.version=$(VERSION) \
	-X github.com/storectl/storectl/pkg/cli.commit=$(COMMIT) \
	-X github.com/storectl/storectl/pkg/cli.date=$(DATE)
GOTESTFLAGS ?=
GOLANGCI_LINT_VERSION ?= v2.6.2
GOLANGCI_LINT ?= $(shell $(GO) env GOPATH)/bin/golangci-lint
GORELEASER_VERSION ?= v2.15.1
GORELEASER ?= $(shell $(GO) env GOPATH)/bin/goreleaser
MAN_DIR   ?= bin/man

.PHONY: all build build-e2e test unit e2e lint completions docs man release-snapshot release-check demo bench clean

all: build

## build: compile the storectl binary into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/storectl

## build-e2e: the binary end-to-end tests run: build's, with the e2e tag that lets them shorten the engine's timings; never ship it
build-e2e:
	CGO_ENABLED=0 $(GO) build -tags e2e -trimpath -ldflags '$(LDFLAGS)' -o $(E2E_BIN) ./cmd/storectl

## test: every test — unit, render, the test cluster's own checks and end-to-end — on the sandbox cluster
test: build build-e2e
	STORECTL_TEST_BINARY=$(CURDIR)/$(E2E_BIN) hack/run-tests.sh

## unit: tests that need no cluster
unit:
	STORECTL_SKIP_CLUSTER=1 $(GO) test $(GOTESTFLAGS) ./...

## e2e: end-to-end tests only, on the sandbox cluster (started if needed)
e2e: build-e2e
	STORECTL_TEST_BINARY=$(CURDIR)/$(E2E_BIN) hack/run-tests.sh e2e

## lint: golangci-lint (.golangci.yml), go vet, gofmt and shellcheck
lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...
	$(GO) vet ./...
	test -z "$$(gofmt -l cmd pkg charts hack)" || { gofmt -l cmd pkg charts hack; exit 1; }
	shellcheck hack/*.sh .ci/run charts/woocommerce/files/*.sh

## completions: regenerate the shell completion scripts in completions/
completions:
	for sh in bash zsh fish powershell; do $(GO) run ./cmd/storectl completion $$sh > completions/storectl.$$sh; done

## docs: regenerate the command reference in docs/
docs:
	$(GO) run ./hack/gendocs docs/cli.md

## man: generate the man pages (one per command, gzipped) into $(MAN_DIR)
man:
	rm -rf $(MAN_DIR)
	$(GO) run ./hack/genman $(MAN_DIR)
	@# Compressed, as Debian policy asks of packaged man pages; -n leaves out the name and time
	@# stamp, so that two builds of one commit give the same files.
	gzip -9n $(MAN_DIR)/*.1

## release-snapshot: build every release archive, package and checksum into dist/, without publishing
release-snapshot: $(GORELEASER)
	$(GORELEASER) release --snapshot --clean

## release-check: validate .goreleaser.yaml
release-check: $(GORELEASER)
	$(GORELEASER) check

## demo: start the sandbox cluster and run storectl against it for real
demo: build
	hack/demo.sh

## bench: measure storectl against the helm CLI on a private sandbox, in under 10 minutes (docs/performance.md)
bench:
	$(GO) run ./hack/bench -json bin/bench.json

## golangci-lint: install the pinned golangci-lint
$(GOLANGCI_LINT):
	GOFLAGS=-mod=mod $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

## goreleaser: install the pinned goreleaser
$(GORELEASER):
	GOFLAGS=-mod=mod $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

clean:
	rm -rf bin dist

include hack/testcluster.mk

#!/usr/bin/env bash
# Runs every test of the repository against the sandbox cluster.
#
#   hack/run-tests.sh        unit, render, cluster and end-to-end tests
#   hack/run-tests.sh e2e    end-to-end tests only
#
# The sandbox is started when it is not running and stopped again afterwards;
# a sandbox that was already up is reused and left running.
#
# Test packages run one at a time (-p 1): they share the sandbox, and some
# end-to-end tests stop its API server or count every store on it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

mode="${1:-all}"
go="${GO:-go}"

started=0
cleanup() {
	if ((started)); then
		hack/testcluster.sh down >&2 || true
	fi
}
trap cleanup EXIT

if ! hack/testcluster.sh status >/dev/null 2>&1; then
	echo "run-tests: starting the sandbox cluster" >&2
	hack/testcluster.sh up >/dev/null
	started=1
fi
STORECTL_TEST_KUBECONFIG="$(hack/testcluster.sh kubeconfig)"
export STORECTL_TEST_KUBECONFIG
export STORECTL_TEST_BINARY="$root/bin/storectl"

if [[ "$mode" == all ]]; then
	echo "run-tests: go vet" >&2
	"$go" vet -tags e2e ./...
	unformatted="$(gofmt -l cmd pkg charts hack)"
	if [[ -n "$unformatted" ]]; then
		echo "run-tests: not gofmt-ed:" >&2
		echo "$unformatted" >&2
		exit 1
	fi
	echo "run-tests: go test (all packages, with end-to-end tests)" >&2
	"$go" test -tags e2e -p 1 -count=1 -timeout 60m ./...
else
	mapfile -t pkgs < <(grep -rl --include='*_test.go' '^//go:build e2e' cmd pkg charts | xargs -r -n1 dirname | sort -u | sed 's#^#./#')
	echo "run-tests: go test (end-to-end packages: ${pkgs[*]})" >&2
	"$go" test -tags e2e -p 1 -count=1 -timeout 60m "${pkgs[@]}"
fi

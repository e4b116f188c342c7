#!/usr/bin/env bash
# Runs every test of the repository against the sandbox cluster.
#
#   hack/run-tests.sh        unit, render, cluster and end-to-end tests
#   hack/run-tests.sh e2e    end-to-end tests only
#
# The sandbox is started when it is not running and stopped again afterwards;
# a sandbox that was already up is reused and left running.
#
# Test packages and the tests in them run in parallel: they share the sandbox,
# each with stores and namespaces of its own, and the tests that stop an API
# server or count every store use a private sandbox (testcluster.Private).
# End-to-end tests mostly wait on the cluster, so more of them run at once
# than there are cores.
#
# The output is go test's without -v, then the slowest tests of the run; the
# events of the run are kept in bin/test-events.json.
#
# Environment:
#   STORECTL_TEST_BINARY   the storectl binary the end-to-end tests run
#                          (make test builds bin/storectl-e2e for them)
#   TEST_PARALLEL          tests run at once in each package (default 4)
#   TEST_PACKAGES          test binaries run at once (default 4)
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
export STORECTL_TEST_BINARY="${STORECTL_TEST_BINARY:-$root/bin/storectl-e2e}"

mkdir -p bin
"$go" build -o bin/testreport ./hack/testreport
gotest() {
	"$go" test -json -tags e2e -count=1 -timeout 60m \
		-p "${TEST_PACKAGES:-4}" -parallel "${TEST_PARALLEL:-4}" "$@" |
		bin/testreport -json bin/test-events.json
}

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
	gotest ./...
else
	mapfile -t pkgs < <(grep -rl --include='*_test.go' '^//go:build e2e' cmd pkg charts | xargs -r -n1 dirname | sort -u | sed 's#^#./#')
	echo "run-tests: go test (end-to-end packages: ${pkgs[*]})" >&2
	gotest "${pkgs[@]}"
fi

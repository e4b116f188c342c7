# Targets of the sandbox cluster (hack/testcluster.sh), included by the Makefile.

.PHONY: sandbox sandbox-down sandbox-build sandbox-status

## sandbox: start the local sandbox cluster (builds its binaries once, ~13 min on 2 cores) and print its kubeconfig path
sandbox:
	hack/testcluster.sh up

## sandbox-down: stop the sandbox cluster and remove its state
sandbox-down:
	hack/testcluster.sh down

## sandbox-build: build or reuse the sandbox binaries without starting anything
sandbox-build:
	hack/testcluster.sh build

## sandbox-status: show whether the sandbox runs, and its processes
sandbox-status:
	hack/testcluster.sh status

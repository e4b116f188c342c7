#!/usr/bin/env bash
# Runs storectl for real against the local sandbox cluster: starts the sandbox
# (building it on first use), then creates, lists, inspects and deletes a store.
#
# The sandbox simulates nodes, so WordPress does not really run; everything
# storectl does against the API server (namespaces, Pod Security admission,
# quotas, the Helm release, the watch until Ready, namespace deletion) is real.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

storectl="$root/bin/storectl"
# A name of its own, so that the demo never meets a store someone else made (or an earlier
# demo left behind); STORE=name picks another.
store="${STORE:-demo-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')}"

KUBECONFIG="$(hack/testcluster.sh up)"
export KUBECONFIG
# The demo keeps its own audit log and configuration away from the user's.
STORECTL_AUDIT_PATH="${STORECTL_AUDIT_PATH:-$root/bin/demo-audit.db}"
export STORECTL_AUDIT_PATH
export STORECTL_PROFILE=local
export XDG_CONFIG_HOME="$root/bin/demo-config"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }

# The sandbox is shared with the tests, which may hold max-stores stores already; create would
# then refuse with exit code 8. The sandbox is disposable, so the demo lifts the limit for its
# own commands rather than fail, and says so. The headroom covers tests creating stores meanwhile.
existing=$("$storectl" list -o name | wc -l)
limit=$("$storectl" config view 2>/dev/null | awk '$1 == "max-stores" { print $2 }')
if [[ -n "$limit" ]] && ((existing >= limit)); then
	raised=$((existing + 10))
	printf 'The sandbox already has %d stores and max-stores is %d: the demo raises max-stores to %d for its own commands (STORECTL_MAX_STORES=%d). To free the sandbox instead: bin/storectl list, then bin/storectl delete <name> --yes.\n' \
		"$existing" "$limit" "$raised" "$raised" >&2
	export STORECTL_MAX_STORES=$raised
fi

# Whatever happens, the demo's store does not outlive the demo.
deleted=false
cleanup() {
	"$deleted" || "$storectl" delete "$store" --yes --ignore-not-found --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

step storectl create "$store" --type woocommerce
"$storectl" create "$store" --type woocommerce --timeout 5m
step storectl list
"$storectl" list
step storectl get "$store"
"$storectl" get "$store"
step storectl credentials "$store" -o json '| (password hidden)'
"$storectl" credentials "$store" -o json | sed -E 's/("password": *")[^"]*"/\1<hidden>"/'
step storectl delete "$store" --yes
"$storectl" delete "$store" --yes
deleted=true
step storectl audit --store "$store"
"$storectl" audit --store "$store"

printf '\nThe sandbox is still running (KUBECONFIG=%s). Stop it with: make sandbox-down\n' "$KUBECONFIG" >&2

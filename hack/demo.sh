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
store="${STORE:-demo}"

KUBECONFIG="$(hack/testcluster.sh up)"
export KUBECONFIG
# The demo keeps its own audit log and configuration away from the user's.
STORECTL_AUDIT_PATH="${STORECTL_AUDIT_PATH:-$root/bin/demo-audit.db}"
export STORECTL_AUDIT_PATH
export STORECTL_PROFILE=local

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; }

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
step storectl audit --store "$store"
"$storectl" audit --store "$store"

printf '\nThe sandbox is still running (KUBECONFIG=%s). Stop it with: make sandbox-down\n' "$KUBECONFIG" >&2

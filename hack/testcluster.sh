#!/usr/bin/env bash
# The storectl sandbox: a real control plane (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler built from source) with nodes
# simulated by kwok, for tests, benchmarks and trying storectl locally.
#
#   hack/testcluster.sh up               start (building what is missing), print the kubeconfig path
#   hack/testcluster.sh down             stop every process it started and remove its state
#   hack/testcluster.sh status           say whether it runs, and its processes
#   hack/testcluster.sh kubeconfig       print the kubeconfig path
#   hack/testcluster.sh kubectl ARGS...  the pinned kubectl against the sandbox
#   hack/testcluster.sh build            build the binaries into the cache only
#   hack/testcluster.sh apiserver stop|start
#                                        stop or restart kube-apiserver alone
#   hack/testcluster.sh acquire PID / release PID
#                                        shared use by test processes: the last
#                                        one out stops a sandbox that a test started
#   hack/testcluster.sh guard PID        stop the sandbox once process PID has ended,
#                                        however it ended (for a test's private sandbox)
#
# On stdout, `up`, `acquire` and `kubeconfig` print the kubeconfig path and
# `kubectl` what kubectl prints; everything else the script says goes to stderr.
#
# Environment:
#   STORECTL_SANDBOX_READY_DELAY  how long containers take to become Ready (default 2s; 0s to minutes)
#   XDG_CACHE_HOME                binaries live in $XDG_CACHE_HOME/storectl-testcluster (default ~/.cache)
#   XDG_STATE_HOME                the running sandbox lives in $XDG_STATE_HOME/storectl-testcluster (default ~/.local/state)
set -euo pipefail

readonly KUBE_VERSION=v1.37.2
readonly ETCD_VERSION=v3.6.16
readonly KWOK_VERSION=v0.8.0
readonly CLUSTER=storectl-sandbox

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly TOOLS="$ROOT/hack/tools"
readonly MANIFESTS="$ROOT/hack/kwok"

readonly CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/storectl-testcluster"
readonly STATE="${XDG_STATE_HOME:-$HOME/.local/state}/storectl-testcluster"
readonly LOCK="$STATE/lock"
readonly KWOK_HOME="$STATE/kwok"
readonly CLUSTER_DIR="$KWOK_HOME/clusters/$CLUSTER"
readonly KUBECONFIG_PATH="$CLUSTER_DIR/kubeconfig.yaml"
readonly LEASES="$STATE/leases"
readonly EPHEMERAL="$STATE/started-for-tests"
# PORTS_LOCK is one for the machine, whatever the state directory: kwokctl picks the ports
# of a new sandbox among the free ones, so a sandbox being created must not run while
# another has its kube-apiserver stopped, whose port is free until it starts again.
readonly PORTS_LOCK="${TMPDIR:-/tmp}/storectl-testcluster-ports.lock"
readonly PORTS_HOLDER="$STATE/ports-holder.pid"

readonly ETCD="$CACHE/etcd-$ETCD_VERSION/etcd"
readonly KWOK="$CACHE/kwok-$KWOK_VERSION/kwok"
readonly KWOKCTL="$CACHE/kwok-$KWOK_VERSION/kwokctl"
readonly KUBE_DIR="$CACHE/kube-$KUBE_VERSION"
readonly KUBECTL="$KUBE_DIR/kubectl"
readonly KUBE_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

# kwokctl reads its work directory and the defaults it would otherwise
# download from the environment; every binary is a local path, so it never
# reaches for the network.
export KWOK_WORKDIR="$KWOK_HOME"
export KWOK_KUBE_VERSION="$KUBE_VERSION"
export KWOK_KUBECTL_BINARY="$KUBECTL"
# Tool builds never look at a workspace file the repository might grow.
export GOWORK=off

log() { printf 'testcluster: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
}

# lock_fd is the descriptor of the held lock. Processes that outlive the
# script are started with it closed ({lock_fd}>&-): one that inherited it
# would keep the lock held after a failed run.
lock_fd=9

# with_lock runs its arguments holding the sandbox lock, so that concurrent
# test packages and people agree on who starts and stops the cluster.
with_lock() {
	mkdir -p "$STATE"
	exec {lock_fd}>>"$LOCK"
	if ! flock -w 1800 "$lock_fd"; then
		die "another testcluster.sh has held $LOCK for 30 minutes"
	fi
	trap 'flock -u "$lock_fd" 2>/dev/null || true' EXIT
	"$@"
	flock -u "$lock_fd"
	exec {lock_fd}>&-
	trap - EXIT
}

# duration_ms converts a Go-style duration (0, 500ms, 2s, 1m30s, 1h) to milliseconds.
duration_ms() {
	local rest=$1 total=0 n
	[[ $rest == 0 ]] && { echo 0; return; }
	[[ -n $rest ]] || return 1
	while [[ -n $rest ]]; do
		[[ $rest =~ ^([0-9]+)(ms|s|m|h)(.*)$ ]] || return 1
		n=$((10#${BASH_REMATCH[1]}))
		case ${BASH_REMATCH[2]} in
		ms) total=$((total + n)) ;;
		s) total=$((total + n * 1000)) ;;
		m) total=$((total + n * 60000)) ;;
		h) total=$((total + n * 3600000)) ;;
		esac
		rest=${BASH_REMATCH[3]}
	done
	echo "$total"
}

# --- building --------------------------------------------------------------

kube_built() {
	local b
	for b in "${KUBE_BINARIES[@]}"; do
		[[ -x "$KUBE_DIR/$b" ]] || return 1
	done
}

# go_build builds into a scratch directory next to the cache entry and moves
# the results in only when all succeeded, so an interrupted build never
# leaves a half-written binary that a later run would trust.
go_build() {
	local dir=$1 ldflags=$2
	shift 2
	local tmp="$dir.partial"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	go build -trimpath -ldflags "$ldflags" -o "$tmp/" "$@"
	mkdir -p "$dir"
	mv -f "$tmp"/* "$dir/"
	rmdir "$tmp"
}

provisioner_path() {
	local sum
	sum=$(cat "$TOOLS/go.mod" "$TOOLS/go.sum" "$TOOLS"/provisioner/*.go | sha256sum)
	echo "$CACHE/provisioner-${sum:0:12}/provisioner"
}

build() {
	command -v go >/dev/null || die "go is not on PATH; it is needed once to build the sandbox binaries"
	local started=$SECONDS
	if [[ ! -x "$ETCD" ]]; then
		log "building etcd $ETCD_VERSION into $CACHE (about a minute)"
		(cd "$TOOLS/etcd" && go_build "$(dirname "$ETCD")" "-s -w" .)
	fi
	if [[ ! -x "$KWOK" || ! -x "$KWOKCTL" ]]; then
		log "building kwok and kwokctl $KWOK_VERSION into $CACHE (a few minutes)"
		(cd "$TOOLS/kwok" && go_build "$(dirname "$KWOK")" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
			sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl)
	fi
	if ! kube_built; then
		log "building Kubernetes $KUBE_VERSION into $CACHE (about 13 minutes on 2 cores, once)"
		local minor=${KUBE_VERSION#v1.}
		minor=${minor%%.*}
		local ldflags="-s -w"
		local pkg
		for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
			ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
		done
		ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
		(cd "$TOOLS" && go_build "$KUBE_DIR" "$ldflags" \
			k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
			k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
	fi
	local provisioner
	provisioner=$(provisioner_path)
	if [[ ! -x "$provisioner" ]]; then
		log "building the sandbox volume provisioner"
		(cd "$TOOLS" && go_build "$(dirname "$provisioner")" "-s -w" ./provisioner)
		# Builds of older sources are of no further use.
		find "$CACHE" -mindepth 1 -maxdepth 1 -name 'provisioner-*' ! -path "$(dirname "$provisioner")" -exec rm -rf {} +
	fi
	if ((SECONDS - started > 1)); then
		log "binaries ready in $((SECONDS - started))s"
	fi
}

# --- the running cluster -----------------------------------------------------

# pid_alive tells whether a process runs; a zombie waiting for its reaper
# (the components' parent, kwokctl, is long gone) counts as ended.
pid_alive() {
	local pid=$1
	[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
		[[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ]]
}

component_pid() {
	local file="$CLUSTER_DIR/pids/$1.pid"
	[[ -f $file ]] || return 1
	local pid
	pid=$(<"$file")
	pid_alive "$pid" || return 1
	echo "$pid"
}

provisioner_pid() {
	local file="$STATE/provisioner.pid" pid
	[[ -f $file ]] || return 1
	pid=$(<"$file")
	pid_alive "$pid" || return 1
	# Guard against a recycled pid: it must still be our provisioner.
	[[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == provisioner ]] || return 1
	echo "$pid"
}

kctl() {
	"$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"
}

apiserver_ready() {
	[[ -f $KUBECONFIG_PATH ]] && kctl get --raw /readyz --request-timeout=5s >/dev/null 2>&1
}

components_running() {
	[[ -f $KUBECONFIG_PATH ]] || return 1
	local c
	for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller; do
		component_pid "$c" >/dev/null || return 1
	done
}

running() {
	components_running && provisioner_pid >/dev/null
}

# others_running: every component but kube-apiserver runs.
others_running() {
	local c
	for c in etcd kube-controller-manager kube-scheduler kwok-controller; do
		component_pid "$c" >/dev/null || return 1
	done
}

wait_for() {
	local what=$1 timeout=$2
	shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null; do
		((SECONDS < deadline)) || die "timed out after ${timeout}s waiting for $what; logs are in $CLUSTER_DIR/logs and $STATE"
		sleep 0.5
	done
}

nodes_ready() {
	local out
	out=$(kctl get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null) || return 1
	[[ $(grep -c '^True$' <<<"$out") -ge 3 ]]
}

default_serviceaccount() {
	kctl get serviceaccount default -n default >/dev/null 2>&1
}

apply_stages() {
	local delay=${STORECTL_SANDBOX_READY_DELAY:-2s} ms
	ms=$(duration_ms "$delay") || die "STORECTL_SANDBOX_READY_DELAY=$delay is not a duration such as 0s, 500ms, 2s or 3m"
	sed "s/@READY_DELAY_MS@/$ms/g" "$MANIFESTS/pod-stages.yaml" | kctl apply -f - >/dev/null
	kctl apply -f "$MANIFESTS/node-stages.yaml" >/dev/null
	# Published in the cluster, so that tests read the delay in force.
	kctl create configmap storectl-sandbox -n kube-public --from-literal=ready-delay="$delay" --dry-run=client -o yaml |
		kctl apply -f - >/dev/null
	echo "$delay" >"$STATE/ready-delay"
}

write_kwokctl_config() {
	cat >"$STATE/kwokctl.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  bindAddress: 127.0.0.1
  kubectlBinary: $KUBECTL
  enableCRDs:
  - Stage
  - Logs
  - ClusterLogs
  # An exec into a pod runs a local process as the Exec or ClusterExec
  # resource for the pod says (the backup and restore tests point them at
  # a real MariaDB and a directory of files).
  - Exec
  - ClusterExec
  nodeLeaseDurationSeconds: 40
componentsPatches:
# Pod logs: kwok serves them from local files (its Logs and ClusterLogs
# resources) on the nodes' kubelet port, so the nodes get 127.0.0.1 as their
# address and the API server reaches them by it rather than by host name.
- name: kwok-controller
  extraArgs:
  - key: node-ip
    value: 127.0.0.1
    override: true
- name: kube-apiserver
  extraArgs:
  - key: kubelet-preferred-address-types
    value: InternalIP,Hostname
# Alone in the cluster, the controllers need no leader election; without it
# they ride out an API server restart instead of exiting when the lease
# cannot be renewed.
- name: kube-controller-manager
  extraArgs:
  - key: leader-elect
    value: "false"
- name: kube-scheduler
  extraArgs:
  - key: leader-elect
    value: "false"
# The API server reaches a node's "kubelet" (the kwok controller, which
# serves exec) at the node's InternalIP, 127.0.0.1; the node names it would
# try first do not resolve.
- name: kube-apiserver
  extraArgs:
  - key: kubelet-preferred-address-types
    value: InternalIP,Hostname
- name: kwok-controller
  extraArgs:
  - key: node-ip
    value: 127.0.0.1
EOF
}

start_provisioner() {
	provisioner_pid >/dev/null && return 0
	local bin
	bin=$(provisioner_path)
	setsid "$bin" --kubeconfig "$KUBECONFIG_PATH" </dev/null >>"$STATE/provisioner.log" 2>&1 {lock_fd}>&- &
	echo "$!" >"$STATE/provisioner.pid"
}

up_locked() {
	build
	if [[ -f "$STATE/kube-apiserver.cmdline" ]] && ! component_pid kube-apiserver >/dev/null; then
		if others_running; then
			# Stopped on purpose by `apiserver stop` and not started yet: bring
			# it back rather than mistake the sandbox for a broken one.
			apiserver_start
		else
			rm -f "$STATE/kube-apiserver.cmdline" "$STATE/kube-apiserver.cwd"
		fi
	fi
	if [[ -d $CLUSTER_DIR ]] && ! components_running; then
		# Some component died, or every process was killed (a machine
		# restart, a CI job's processes ended): a sandbox holds nothing worth
		# keeping, and starting afresh is quick and always works.
		log "a previous sandbox did not stop cleanly; removing it"
		down_locked
	fi
	if components_running; then
		# Running, if perhaps slow to answer under load: never tear down a
		# sandbox that others may be using.
		wait_for "kube-apiserver to be ready" 120 apiserver_ready
		start_provisioner
		apply_stages
		wait_for "the provisioner" 10 provisioner_pid
		return 0
	fi
	if [[ -d $CLUSTER_DIR ]]; then
		log "a previous sandbox did not stop cleanly; removing it"
		down_locked
	fi
	local started=$SECONDS
	log "starting $CLUSTER (state in $STATE)"
	mkdir -p "$STATE" "$LEASES"
	write_kwokctl_config
	exec {ports_fd}>>"$PORTS_LOCK"
	flock -w 600 "$ports_fd" || die "another sandbox has held $PORTS_LOCK for 10 minutes"
	if ! "$KWOKCTL" create cluster \
		--name "$CLUSTER" \
		--config "$STATE/kwokctl.yaml" \
		--runtime binary \
		--kubeconfig "" \
		--etcd-binary "$ETCD" \
		--kube-apiserver-binary "$KUBE_DIR/kube-apiserver" \
		--kube-controller-manager-binary "$KUBE_DIR/kube-controller-manager" \
		--kube-scheduler-binary "$KUBE_DIR/kube-scheduler" \
		--kwok-controller-binary "$KWOK" \
		--kube-authorization=true \
		--kube-admission=true \
		--wait 2m >"$STATE/kwokctl.log" 2>&1 {lock_fd}>&- {ports_fd}>&-; then
		tail -n 30 "$STATE/kwokctl.log" >&2
		die "kwokctl could not create the cluster; see $STATE/kwokctl.log"
	fi
	wait_for "kube-apiserver to be ready" 120 apiserver_ready
	# Every component listens now: its ports are taken.
	flock -u "$ports_fd"
	exec {ports_fd}>&-
	wait_for "the Stage resource" 60 kctl wait --for condition=established --timeout=5s crd/stages.kwok.x-k8s.io
	apply_stages
	kctl apply -f "$MANIFESTS/cluster.yaml" >/dev/null
	start_provisioner
	# A node created a moment before the kwok controller has seen the stages
	# would wait for its next update; touching the nodes provides one.
	local deadline=$((SECONDS + 90))
	until nodes_ready; do
		((SECONDS < deadline)) || die "the simulated nodes did not become Ready; see $CLUSTER_DIR/logs/kwok-controller.log"
		sleep 2
		nodes_ready || kctl annotate nodes --all --overwrite "storectl.dev/nudged=$SECONDS" >/dev/null 2>&1 || true
	done
	wait_for "the default ServiceAccount" 60 default_serviceaccount
	wait_for "the provisioner" 10 provisioner_pid
	log "$CLUSTER is up in $((SECONDS - started))s"
}

# stop_pid stops one process we started: TERM, then KILL if it lingers
# longer than the grace period (in seconds, default 10).
stop_pid() {
	local pid=$1 grace=${2:-10} i
	pid_alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.1
	done
	log "process $pid still runs ${grace}s after SIGTERM; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

down_locked() {
	local pids=() pid f
	release_ports
	if pid=$(provisioner_pid); then
		stop_pid "$pid"
	fi
	if [[ -d "$CLUSTER_DIR/pids" ]]; then
		for f in "$CLUSTER_DIR"/pids/*.pid; do
			[[ -f $f ]] || continue
			pid=$(<"$f")
			pid_alive "$pid" && pids+=("$pid")
		done
	fi
	if [[ -x $KWOKCTL && -d $CLUSTER_DIR ]]; then
		"$KWOKCTL" delete cluster --name "$CLUSTER" >>"$STATE/kwokctl.log" 2>&1 || log "kwokctl delete cluster failed; stopping the processes directly"
	fi
	for pid in "${pids[@]}"; do
		stop_pid "$pid"
	done
	# Keep the lock file (others may be waiting on it); everything else goes.
	find "$STATE" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
}

status() {
	if ! [[ -d $CLUSTER_DIR ]]; then
		log "$CLUSTER is not running"
		return 1
	fi
	local c pid state=running
	for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok-controller; do
		if pid=$(component_pid "$c"); then
			log "  $c: pid $pid"
		else
			log "  $c: not running"
			state=degraded
		fi
	done
	if pid=$(provisioner_pid); then
		log "  provisioner: pid $pid"
	else
		log "  provisioner: not running"
		state=degraded
	fi
	if apiserver_ready; then
		log "  API server: ready at $(kctl config view -o jsonpath='{.clusters[0].cluster.server}')"
		log "  nodes: $(kctl get nodes --no-headers 2>/dev/null | wc -l), ready delay: $(cat "$STATE/ready-delay" 2>/dev/null || echo unknown)"
	else
		log "  API server: not ready"
		state=degraded
	fi
	[[ -f $EPHEMERAL ]] && log "  started by tests; stopped when the last test process releases it"
	log "$CLUSTER is $state; kubeconfig: $KUBECONFIG_PATH"
	[[ $state == running ]]
}

# hold_ports takes PORTS_LOCK in a process of its own, which keeps it from `apiserver stop`
# to `apiserver start` (at most 10 minutes, should the start never come).
hold_ports() {
	local ready="$STATE/ports-holder.ready"
	rm -f "$ready"
	# shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
	setsid flock -w 600 "$PORTS_LOCK" bash -c 'echo "$$" >"$1"; touch "$2"; exec sleep 600' holder "$PORTS_HOLDER" "$ready" \
		</dev/null >/dev/null 2>&1 {lock_fd}>&- &
	wait_for "the machine's port lock ($PORTS_LOCK)" 600 test -f "$ready"
}

release_ports() {
	local pid
	if [[ -f $PORTS_HOLDER ]]; then
		pid=$(<"$PORTS_HOLDER")
		if [[ $pid =~ ^[0-9]+$ ]]; then
			kill "$pid" 2>/dev/null || true
		fi
		rm -f "$PORTS_HOLDER" "$STATE/ports-holder.ready"
	fi
}

apiserver_stop() {
	local pid
	pid=$(component_pid kube-apiserver) || die "kube-apiserver is not running"
	hold_ports
	# Remember exactly how kwokctl started it, to start it again the same way.
	tr '\0' '\n' <"/proc/$pid/cmdline" >"$STATE/kube-apiserver.cmdline"
	readlink "/proc/$pid/cwd" >"$STATE/kube-apiserver.cwd"
	# kube-apiserver closes its port at once on SIGTERM but can take a long
	# while to exit after that; it is killed after a short grace, and the
	# start waits until it is gone.
	stop_pid "$pid" 3
	printf '%s' "$pid" >"$STATE/kube-apiserver.stopped"
	rm -f "$CLUSTER_DIR/pids/kube-apiserver.pid"
	log "kube-apiserver (pid $pid) stopped"
}

# apiserver_port prints the secure port of the kube-apiserver command line
# saved by apiserver_stop.
apiserver_port() {
	sed -n 's/^--secure-port=\([0-9][0-9]*\)$/\1/p' "$STATE/kube-apiserver.cmdline" | head -n 1
}

# port_free: nothing listens on 127.0.0.1:$1 any more.
port_free() {
	# Captured, not piped into grep -q: under pipefail an early grep exit would let a
	# SIGPIPE'd ss read as "free".
	[[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]]
}

# apiserver_gone: the stopped kube-apiserver has exited and its port is free,
# so that the new one can bind it.
apiserver_gone() {
	local old port
	old=$(cat "$STATE/kube-apiserver.stopped" 2>/dev/null) || old=
	if [[ -n $old ]] && pid_alive "$old"; then
		kill -KILL "$old" 2>/dev/null || true
		return 1
	fi
	port=$(apiserver_port)
	[[ -z $port ]] || port_free "$port"
}

# apiserver_ready_or_dead waits for the started kube-apiserver $1: it
# succeeds once it serves, fails at once if the process has exited.
apiserver_ready_or_dead() {
	local pid=$1
	until apiserver_ready; do
		pid_alive "$pid" || return 1
		((SECONDS < deadline)) || return 2
		sleep 0.5
	done
}

apiserver_start() {
	if component_pid kube-apiserver >/dev/null; then
		wait_for "kube-apiserver to be ready" 120 apiserver_ready
		release_ports
		return 0
	fi
	# However the start ends, the machine's port lock is let go.
	trap 'release_ports; flock -u "$lock_fd" 2>/dev/null || true' EXIT
	[[ -f "$STATE/kube-apiserver.cmdline" ]] || die "kube-apiserver was not stopped by this script; run: $0 down && $0 up"
	local args=() attempt pid rc deadline=$((SECONDS + 120))
	local apilog="$CLUSTER_DIR/logs/kube-apiserver.log"
	mapfile -t args <"$STATE/kube-apiserver.cmdline"
	wait_for "the stopped kube-apiserver to exit and free its port" 30 apiserver_gone
	# A kube-apiserver that exits while starting (a port not yet released by
	# the kernel, etcd slow to answer under load) is started again rather
	# than waited on until the deadline.
	for attempt in 1 2 3; do
		pid=$(
			cd "$(<"$STATE/kube-apiserver.cwd")"
			setsid "${args[@]}" </dev/null >>"$apilog" 2>&1 {lock_fd}>&- &
			echo "$!"
		)
		# kwokctl reads the pid file without a trailing newline.
		printf '%s' "$pid" >"$CLUSTER_DIR/pids/kube-apiserver.pid"
		rc=0
		apiserver_ready_or_dead "$pid" || rc=$?
		if ((rc == 0)); then
			rm -f "$STATE/kube-apiserver.stopped"
			release_ports
			log "kube-apiserver started again (pid $pid)"
			return 0
		fi
		((rc == 1)) || die "timed out after 120s waiting for kube-apiserver (pid $pid) to be ready; its log: $apilog"
		log "kube-apiserver (pid $pid) exited while starting (attempt $attempt); the end of its log:"
		tail -n 5 "$apilog" | sed 's/^/  /' >&2
		wait_for "the port of kube-apiserver to be free" 30 apiserver_gone
	done
	die "kube-apiserver exited while starting, three times; its log: $apilog"
}

prune_leases() {
	local f
	for f in "$LEASES"/*; do
		[[ -f $f ]] || continue
		pid_alive "$(basename "$f")" || rm -f "$f"
	done
}

acquire_locked() {
	local holder=$1
	if ! running; then
		up_locked
		touch "$EPHEMERAL"
	else
		up_locked
	fi
	mkdir -p "$LEASES"
	touch "$LEASES/$holder"
}

release_locked() {
	local holder=$1
	rm -f "$LEASES/$holder"
	prune_leases
	if [[ -f $EPHEMERAL ]] && [[ -z "$(ls -A "$LEASES" 2>/dev/null)" ]]; then
		log "last test process done; stopping the sandbox it started"
		down_locked
	fi
}

# guard leaves behind a small watcher that stops this sandbox when process
# holder ends, so that a test binary that crashes does not leak its private
# cluster. It also ends, doing nothing, once the state directory is gone.
guard() {
	local holder=$1
	mkdir -p "$STATE"
	# shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
	setsid bash -c '
		while kill -0 "$1" 2>/dev/null && [[ -d $2 ]]; do sleep 2; done
		if [[ -d $2/kwok ]]; then exec "$3" down; fi
	' guard "$holder" "$STATE" "${BASH_SOURCE[0]}" </dev/null >>"$STATE/guard.log" 2>&1 {lock_fd}>&- &
}

main() {
	local cmd=${1:-}
	[[ $# -gt 0 ]] && shift
	case $cmd in
	up)
		with_lock up_locked
		# Started or adopted by hand: tests leave it running.
		rm -f "$EPHEMERAL"
		echo "$KUBECONFIG_PATH"
		;;
	down)
		with_lock down_locked
		log "$CLUSTER stopped"
		;;
	build)
		with_lock build
		;;
	status)
		status
		;;
	kubeconfig)
		[[ -f $KUBECONFIG_PATH ]] || die "$CLUSTER is not running; start it with: $0 up"
		echo "$KUBECONFIG_PATH"
		;;
	kubectl)
		[[ -f $KUBECONFIG_PATH ]] || die "$CLUSTER is not running; start it with: $0 up"
		exec "$KUBECTL" --kubeconfig "$KUBECONFIG_PATH" "$@"
		;;
	apiserver)
		case ${1:-} in
		stop) with_lock apiserver_stop ;;
		start) with_lock apiserver_start ;;
		*) die "usage: $0 apiserver stop|start" ;;
		esac
		;;
	acquire)
		[[ ${1:-} =~ ^[0-9]+$ ]] || die "usage: $0 acquire PID"
		with_lock acquire_locked "$1"
		echo "$KUBECONFIG_PATH"
		;;
	release)
		[[ ${1:-} =~ ^[0-9]+$ ]] || die "usage: $0 release PID"
		with_lock release_locked "$1"
		;;
	guard)
		[[ ${1:-} =~ ^[0-9]+$ ]] || die "usage: $0 guard PID"
		guard "$1"
		;;
	-h | --help | help)
		usage
		;;
	*)
		usage
		exit 2
		;;
	esac
}

main "$@"

#!/usr/bin/env bash
# Make sure a Docker engine is reachable, installing and starting one if needed.
#
# Idempotent: if `docker info` already works (an engine is running, ours or someone else's),
# nothing is installed or started. Otherwise installs Debian's docker.io when dockerd is
# missing, starts dockerd in the background as root (logs: /tmp/dockerd.log) and waits up to
# DOCKER_SETUP_TIMEOUT seconds (default 60) for it to answer.
#
# DOCKERD_ARGS adds arguments to dockerd (e.g. a private --host/--data-root to test this script
# next to a running engine; set DOCKER_HOST to match).
#
# Exit status: 0 when `docker info` works at the end, non-zero with a message otherwise.
set -euo pipefail

timeout_s=${DOCKER_SETUP_TIMEOUT:-60}
log_file=${DOCKERD_LOG:-/tmp/dockerd.log}

say() { printf '[docker-setup] %s\n' "$*" >&2; }
fail() {
	say "ERROR: $*"
	exit 1
}

engine_answers() { docker info >/dev/null 2>&1; }

# The engine tests (tests/docker_*.rs) `docker import` a static busybox as a tiny base image.
if ! dpkg -s busybox-static >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	say "installing busybox-static for the engine tests"
	{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y busybox-static; } \
		>/tmp/docker-setup-busybox.log 2>&1 || say "busybox-static not installed (see /tmp/docker-setup-busybox.log)"
fi

if command -v docker >/dev/null 2>&1 && engine_answers; then
	say "engine already running: $(docker version -f '{{.Server.Version}}' 2>/dev/null || echo unknown)"
	exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || fail "not root and no sudo: cannot install or start dockerd"
	sudo="sudo"
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
	say "installing docker.io from the distribution's packages"
	$sudo apt-get update >/tmp/docker-setup-apt.log 2>&1 || fail "apt-get update failed (see /tmp/docker-setup-apt.log)"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y docker.io >>/tmp/docker-setup-apt.log 2>&1 ||
		fail "apt-get install docker.io failed (see /tmp/docker-setup-apt.log)"
fi

# A dockerd may be running but not answering yet (or answering on another socket); never
# start a second one on the same data root.
if [ -z "${DOCKERD_ARGS:-}" ] && pgrep -x dockerd >/dev/null 2>&1; then
	say "dockerd is running (pid $(pgrep -x dockerd | head -n1)) but not answering yet; waiting"
else
	say "starting dockerd (logs: $log_file)"
	# setsid + nohup: the daemon must outlive this script and the CI step's shell.
	# shellcheck disable=SC2086 # DOCKERD_ARGS is a list of words
	$sudo setsid nohup dockerd ${DOCKERD_ARGS:-} >>"$log_file" 2>&1 </dev/null &
fi

waited=0
until engine_answers; do
	if [ "$waited" -ge "$timeout_s" ]; then
		say "last lines of $log_file:"
		tail -n 20 "$log_file" >&2 2>/dev/null || true
		fail "docker engine did not answer within ${timeout_s}s"
	fi
	sleep 1
	waited=$((waited + 1))
done
say "engine ready after ${waited}s: $(docker version -f '{{.Server.Version}}')"

#!/usr/bin/env bash
# Stops the engine scripts/docker/provision-engine.sh started (its pidfile only; an engine the machine had
# before is never touched). dockerd stops its containers and its containerd itself; the cache stays.
set -euo pipefail
# shellcheck source=engine.sh
source "$(dirname "${BASH_SOURCE[0]}")/engine.sh"
CACHE="${MCP_STACK_CACHE:-$HOME/.cache/mcp-security-stack}"
D="$CACHE/docker"
PIDFILE="$D/run/dockerd.pid"

# dockerd leaves its default bridge (docker0) behind: remove it once no engine here answers (the host's
# own, this one, or scripts/docker/debian-engine.sh's).
drop_bridge() {
  local s
  ip link show docker0 >/dev/null 2>&1 || return 0
  for s in /var/run/docker.sock "$D/run/docker.sock" "$CACHE/docker-debian/run/docker.sock"; do
    engine_ping "unix://$s" && return 0
  done
  ip link delete docker0
}

rc=0
engine_stop "$PIDFILE" "$D/bin/dockerd" || rc=$?
case $rc in
  0) drop_bridge; echo "[engine] stopped" >&2 ;;
  2) drop_bridge; echo "[engine] not running" >&2 ;;
  *) exit 1 ;;
esac

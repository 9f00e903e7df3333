#!/usr/bin/env bash
# Stops the engine scripts/docker/provision-engine.sh started (its pidfile only; an engine the machine had
# before is never touched). dockerd stops its containers and its containerd itself; the cache stays.
set -euo pipefail
CACHE="${MCP_STACK_CACHE:-$HOME/.cache/mcp-security-stack}"
D="$CACHE/docker"
PIDFILE="$D/run/dockerd.pid"

# dockerd leaves its default bridge (docker0) behind: remove it once no engine here answers (the host's
# own, this one, or scripts/docker/debian-engine.sh's).
drop_bridge() {
  local s
  ip link show docker0 >/dev/null 2>&1 || return 0
  for s in /var/run/docker.sock "$D/run/docker.sock" "$CACHE/docker-debian/run/docker.sock"; do
    curl -fsS --max-time 2 --unix-socket "$s" http://engine/_ping >/dev/null 2>&1 && return 0
  done
  ip link delete docker0
}

pid="$(cat "$PIDFILE" 2>/dev/null || true)"
# Only our dockerd: the pid must still be the cached binary (a stale pidfile may name another process now).
if [ -z "$pid" ] || [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" != "$(readlink -f "$D/bin/dockerd")" ]; then
  drop_bridge
  echo "[engine] not running" >&2
  exit 0
fi
kill -TERM "$pid"
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || { drop_bridge; echo "[engine] stopped" >&2; exit 0; }
  sleep 1
done
echo "stop-engine: dockerd ($pid) still running after 60 s" >&2
exit 1

#!/usr/bin/env bash
# Debian's own Docker Engine (docker.io 20.10, containerd 1.6, runc 1.1), to prove compose.yaml runs on the
# distribution-packaged engine users have (issue #11) — extracted from the .deb files, NOT installed: no
# service, no /var/run/docker.sock, no host firewall rule. Same private layout and flags as
# provision-engine.sh, under $CACHE/docker-debian. Run one engine at a time (both would use docker0).
#   bash scripts/docker/debian-engine.sh start   # last stdout line: the DOCKER_HOST to use
#   bash scripts/docker/debian-engine.sh stop
set -euo pipefail
umask 077 # its data, state and log are root's alone, like the provisioned engine's
CACHE="${MCP_STACK_CACHE:-$HOME/.cache/mcp-security-stack}"
D="$CACHE/docker-debian"
R="$D/root"
SOCK="$D/run/docker.sock"
step() { printf '[debian-engine] %s\n' "$*" >&2; }
# shellcheck source=engine.sh
source "$(dirname "${BASH_SOURCE[0]}")/engine.sh"
[ "$(id -u)" = 0 ] || { echo "debian-engine: needs root" >&2; exit 3; }

case "${1:-}" in
  start)
    if [ ! -x "$R/usr/sbin/dockerd" ]; then
      step "apt-get download docker.io containerd runc tini (extracted, not installed)"
      install -d -m 0700 "$D/debs"
      (cd "$D/debs" && apt-get download docker.io containerd runc tini >&2)
      for f in "$D"/debs/*.deb; do dpkg-deb -x "$f" "$R"; done
    fi
    install -d -m 0700 "$D/run" "$D/data" "$D/exec"
    step "starting $("$R/usr/sbin/dockerd" --version) on $SOCK"
    PATH="$R/usr/bin:$R/usr/sbin:$PATH" setsid "$R/usr/sbin/dockerd" --host "unix://$SOCK" --data-root "$D/data" \
      --exec-root "$D/exec" --pidfile "$D/run/dockerd.pid" --iptables=false --ip-forward=false --ip-masq=false \
      --userland-proxy-path "$R/usr/sbin/docker-proxy" --init-path "$R/usr/bin/tini-static" \
      >>"$D/dockerd.log" 2>&1 </dev/null &
    engine_await "$SOCK" "$D/dockerd.log" || exit 1
    ;;
  stop)
    rc=0
    engine_stop "$D/run/dockerd.pid" "$R/usr/sbin/dockerd" || rc=$?
    case $rc in
      # stop-engine.sh drops the docker0 bridge once no engine answers.
      0) bash "$(dirname "$0")/stop-engine.sh" >/dev/null 2>&1 || true; step "stopped" ;;
      2) step "not running" ;;
      *) exit 1 ;;
    esac
    ;;
  *) echo "usage: debian-engine.sh start|stop" >&2; exit 2 ;;
esac

# shellcheck shell=bash
# What the engine scripts share (sourced, never run): provision-engine.sh and debian-engine.sh start a private
# dockerd and wait for it, stop-engine.sh and debian-engine.sh stop it, scripts/compose/test.sh asks whether it
# is up. Only ever our own dockerd: each has a private socket and pidfile, and a pid is checked before a signal.

# engine_ping HOST — true when a Docker engine answers GET /_ping at HOST (unix://PATH or tcp://HOST:PORT).
engine_ping() {
  case "$1" in
    unix://*) curl -fsS --max-time 3 --unix-socket "${1#unix://}" http://engine/_ping >/dev/null 2>&1 ;;
    tcp://*) curl -fsS --max-time 3 "http://${1#tcp://}/_ping" >/dev/null 2>&1 ;;
    *) return 1 ;;
  esac
}

# engine_await SOCK LOG — once dockerd is started on SOCK: waits up to 60 s for it to answer, makes the socket
# root's alone (it is root-equivalent) and prints unix://SOCK, the caller's DOCKER_HOST. Else LOG's tail, false.
engine_await() {
  local _
  for _ in $(seq 1 60); do
    if engine_ping "unix://$1"; then
      chmod 0600 "$1"
      echo "unix://$1"
      return 0
    fi
    sleep 1
  done
  echo "dockerd did not answer within 60 s; last log lines:" >&2
  tail -20 "$2" >&2
  return 1
}

# engine_stop PIDFILE DOCKERD — TERMs the pid PIDFILE names, if that process is still the DOCKERD binary (a stale
# pidfile may name another process by now), and waits up to 60 s for it. 0: stopped; 1: still running;
# 2: not running (or not ours), nothing signalled. dockerd stops its containers and its containerd itself.
engine_stop() {
  local pid _
  pid="$(cat "$1" 2>/dev/null || true)"
  if [ -z "$pid" ] || [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" != "$(readlink -f "$2")" ]; then return 2; fi
  kill -TERM "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  echo "dockerd ($pid) still running after 60 s" >&2
  return 1
}

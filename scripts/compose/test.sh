#!/usr/bin/env bash
# `npm run test:compose` (issue #11): the security suites (the vitest `stack` project) against the compose
# deployment on a real Docker engine, then proof that nothing is left behind.
#   1. an engine: the one already reachable, else the provisioned one (scripts/docker/provision-engine.sh),
#      started for this run and stopped after;
#   2. images: upstream ones when STACK_COMPOSE_FILES=compose.yaml (a registry is needed), else the
#      offline set (scripts/docker/build-images.sh; default here, since this machine has no registry);
#   3. STACK_RUNTIME=compose vitest --project stack: tests/harness/compose-runtime.ts brings the files up
#      with testcontainers (health waits), writes .stack/manifest.json, runs the suites, brings it down;
#   4. no container, network or volume of this checkout's compose projects may remain.
# Without root and without an engine, it prints the reason and exits 0 (the suites cannot run here).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
export STACK_COMPOSE_FILES="${STACK_COMPOSE_FILES:-compose.yaml,compose.offline.yaml}"
log() { printf '[test:compose] %s\n' "$*" >&2; }
t0=$SECONDS

CACHE="${MCP_STACK_CACHE:-$HOME/.cache/mcp-security-stack}"
PRIVATE_SOCK="$CACHE/docker/run/docker.sock"
# shellcheck source=../docker/engine.sh
source scripts/docker/engine.sh
# Was the provisioned engine already up (e.g. under `npm start -- --runtime compose --detach`)? Then it is not ours to stop.
was_up=0
engine_ping "unix://$PRIVATE_SOCK" && was_up=1
set +e
DOCKER_HOST="$(bash scripts/docker/provision-engine.sh)"
rc=$?
set -e
if [ $rc = 3 ]; then
  log "SKIPPED: no Docker engine reachable and not root (building/starting one needs root)"
  exit 0
fi
[ $rc = 0 ] || exit $rc
export DOCKER_HOST
# Stop the engine after the run only if this run started it (an engine the machine had stays up).
ours=0
[[ "$DOCKER_HOST" == "unix://$PRIVATE_SOCK" ]] && [ $was_up = 0 ] && [ -z "${MCP_KEEP_ENGINE:-}" ] && ours=1
leftovers() {
  # Containers of this checkout, and volumes/networks of its compose projects (testcontainers-<uuid> for
  # test runs, mcp-security-stack for `npm start -- --runtime compose`).
  docker ps -a --filter "label=com.docker.compose.project.working_dir=$ROOT" --format 'container {{.Names}}'
  docker volume ls --filter label=com.docker.compose.project --format 'volume {{.Name}} {{.Label "com.docker.compose.project"}}' | grep -E ' (testcontainers-|mcp-security-stack$)' || true
  docker network ls --filter label=com.docker.compose.project --format 'network {{.Name}} {{.Label "com.docker.compose.project"}}' | grep -E ' (testcontainers-|mcp-security-stack$)' || true
}
# shellcheck disable=SC2317 # reached through the EXIT trap, which shellcheck 0.9 does not follow
cleanup() {
  local code=$?
  if [ "$ours" = 1 ]; then bash scripts/docker/stop-engine.sh || true; fi
  log "done in $((SECONDS - t0)) s (exit $code)"
}
trap cleanup EXIT
log "engine: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') at $DOCKER_HOST; compose $(docker compose version --short)"

if [[ ",$STACK_COMPOSE_FILES," == *",compose.offline.yaml,"* ]]; then
  bash scripts/provision.sh >/dev/null # the Keycloak dist and FerretDB the offline images are made of
  t=$SECONDS
  bash scripts/docker/build-images.sh
  log "offline base images ready in $((SECONDS - t)) s"
fi

# Ryuk (testcontainers' reaper) is an image from Docker Hub: offline it cannot start; the suites' teardown
# and the leftover check below do its job.
export TESTCONTAINERS_RYUK_DISABLED=true STACK_RUNTIME=compose
t=$SECONDS
set +e
npx vitest run --project stack "$@"
status=$?
set -e
log "suites finished in $((SECONDS - t)) s (exit $status)"

left="$(leftovers)"
if [ -n "$left" ]; then
  log "LEFT BEHIND: $(echo "$left" | tr '\n' ';')"
  exit 1
fi
# Dangling layers of superseded builds; the tagged images and the build cache are the cache.
docker image prune -f >/dev/null
exit $status

#!/usr/bin/env bash
# A Docker engine for the compose runtime, when the machine has none (issue #11). Idempotent and cached:
#   - an engine that already answers (DOCKER_HOST, else /var/run/docker.sock) is used as it is;
#   - otherwise, as root, builds from the Go module proxy (versions.env) into $CACHE/docker/bin:
#     dockerd + docker-proxy (moby), containerd + its runc shim, runc with seccomp, the compose v2 plugin,
#     and the docker CLI when none is on PATH — then starts dockerd on a PRIVATE socket, data root and exec
#     root under $CACHE/docker, with no iptables, no IP forwarding and no masquerading, so nothing else on
#     the host (firewall, /var/run/docker.sock, routing) changes. scripts/docker/stop-engine.sh stops it.
# Progress on stderr; the last stdout line is the DOCKER_HOST to use. Exit 3: no engine and not root.
#   --build-only   build/cache the binaries and stop there (warms the cache; used to time a fresh build)
set -euo pipefail
BUILD_ONLY=0
[ "${1:-}" = --build-only ] && BUILD_ONLY=1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../versions.env
source "$ROOT/versions.env"
CACHE="${MCP_STACK_CACHE:-$HOME/.cache/mcp-security-stack}"
D="$CACHE/docker"
BIN="$D/bin"
SOCK="$D/run/docker.sock"
step() { printf '[engine] %s\n' "$*" >&2; }

# shellcheck source=engine.sh
source "$ROOT/scripts/docker/engine.sh"

# --- an engine already here is used as it is -----------------------------------------------------------
[ $BUILD_ONLY = 1 ] || for host in "${DOCKER_HOST:-}" unix:///var/run/docker.sock; do
  if [ -n "$host" ] && [ "$host" != "unix://$SOCK" ] && engine_ping "$host"; then
    step "using the engine already at $host"
    echo "$host"
    exit 0
  fi
done
if [ $BUILD_ONLY = 0 ] && engine_ping "unix://$SOCK"; then
  step "the provisioned engine is running ($SOCK)"
  echo "unix://$SOCK"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "provision-engine: no Docker engine reachable, and building/starting one needs root" >&2
  exit 3
fi

# --- build what is missing (one stamp per binary and version) -----------------------------------------
need_pkgs=()
# runc's seccomp support links libseccomp; without seccomp the engine refuses to start containers.
dpkg -s libseccomp-dev >/dev/null 2>&1 || need_pkgs+=(libseccomp-dev)
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
command -v gcc >/dev/null || need_pkgs+=(gcc libc6-dev)
# `init: true` mounts the engine's init into each container: it must be static (tini-static).
[ -x /usr/bin/tini-static ] || need_pkgs+=(tini)
command -v curl >/dev/null || need_pkgs+=(curl)
# Only inside each container's own namespace: the embedded DNS (127.0.0.11) needs a DNAT rule there; with
# --iptables=false the engine writes no rule on the host.
command -v iptables >/dev/null || need_pkgs+=(iptables)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  step "apt-get install ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi
command -v go >/dev/null || { echo "provision-engine: Go is required to build the engine" >&2; exit 1; }
mkdir -p "$BIN" "$D/src"

# module MODULE@VERSION — a writable copy of the module source (the module cache is read-only, and compose's
# go.mod has exclude directives that `go install` refuses).
module() {
  local dir src="$D/src/${1//\//_}"
  if [ ! -d "$src" ]; then
    dir="$(GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
    [ -n "$dir" ] || { echo "provision-engine: go mod download $1 failed" >&2; exit 1; }
    rm -rf "$src.tmp" && cp -r "$dir" "$src.tmp" && chmod -R u+w "$src.tmp" && mv "$src.tmp" "$src"
  fi
  echo "$src"
}

# build NAME VERSION MODULE@VERSION PACKAGE [go build args…] — $BIN/NAME-VERSION, linked as $BIN/NAME.
build() {
  local name="$1" version="$2" mod="$3" pkg="$4" src
  shift 4
  if [ ! -x "$BIN/$name-$version" ]; then
    step "building $name $version from the Go module proxy"
    src="$(module "$mod")"
    (cd "$src" && GOFLAGS=-mod=mod go build -trimpath "$@" -o "$BIN/$name-$version.tmp" "$pkg") >&2
    mv "$BIN/$name-$version.tmp" "$BIN/$name-$version"
  fi
  ln -sfn "$name-$version" "$BIN/$name"
}

STATIC=(-tags 'netgo osusergo static_build')
CGO_ENABLED=0 build dockerd "$DOCKER_ENGINE_VERSION" "github.com/moby/moby/v2@$DOCKER_ENGINE_VERSION" ./cmd/dockerd \
  "${STATIC[@]}" -ldflags "-X github.com/moby/moby/v2/dockerversion.Version=${DOCKER_ENGINE_VERSION#v}"
CGO_ENABLED=0 build docker-proxy "$DOCKER_ENGINE_VERSION" "github.com/moby/moby/v2@$DOCKER_ENGINE_VERSION" ./cmd/docker-proxy
CGO_ENABLED=0 build containerd "$CONTAINERD_VERSION" "github.com/containerd/containerd/v2@$CONTAINERD_VERSION" ./cmd/containerd \
  -tags 'urfave_cli_no_docs osusergo netgo static_build no_btrfs' -ldflags "-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
CGO_ENABLED=0 build containerd-shim-runc-v2 "$CONTAINERD_VERSION" "github.com/containerd/containerd/v2@$CONTAINERD_VERSION" ./cmd/containerd-shim-runc-v2 \
  -tags 'urfave_cli_no_docs osusergo netgo static_build no_grpc'
# runc ≥ 1.2: the engine asks for the time namespace ("namespace time does not exist" with Debian's 1.1).
CGO_ENABLED=1 build runc "$RUNC_VERSION" "github.com/opencontainers/runc@$RUNC_VERSION" . \
  -tags seccomp -ldflags "-X main.version=${RUNC_VERSION#v}"
CGO_ENABLED=0 build docker-compose "$COMPOSE_VERSION" "github.com/docker/compose/v2@$COMPOSE_VERSION" ./cmd \
  -ldflags "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION"
if ! command -v docker >/dev/null; then
  # docker/cli is a +incompatible module that ships vendor.mod and vendor/: build it in vendor mode.
  if [ ! -x "$BIN/docker-$DOCKER_CLI_VERSION" ]; then
    step "building the docker CLI $DOCKER_CLI_VERSION (none on PATH)"
    src="$(module "github.com/docker/cli@$DOCKER_CLI_VERSION+incompatible")"
    cp "$src/vendor.mod" "$src/go.mod" && cp "$src/vendor.sum" "$src/go.sum"
    (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=vendor go build -trimpath -tags 'osusergo netgo static_build' \
      -ldflags "-X github.com/docker/cli/cli/version.Version=${DOCKER_CLI_VERSION#v}" -o "$BIN/docker-$DOCKER_CLI_VERSION.tmp" ./cmd/docker) >&2
    mv "$BIN/docker-$DOCKER_CLI_VERSION.tmp" "$BIN/docker-$DOCKER_CLI_VERSION"
  fi
  ln -sfn "docker-$DOCKER_CLI_VERSION" "$BIN/docker"
  ln -sfn "$BIN/docker" /usr/local/bin/docker
fi
# The CLI finds plugins in ~/.docker/cli-plugins; an existing compose plugin is left alone.
if ! docker compose version >/dev/null 2>&1; then
  mkdir -p "$HOME/.docker/cli-plugins"
  ln -sfn "$BIN/docker-compose" "$HOME/.docker/cli-plugins/docker-compose"
fi

# --- start dockerd on its private socket --------------------------------------------------------------
[ $BUILD_ONLY = 0 ] || { step "built (--build-only): $BIN"; exit 0; }
# 0700: only root reaches the socket (it is root-equivalent), the data and the per-container state.
install -d -m 0700 "$D/run" "$D/data" "$D/exec" "$D/log"
step "starting dockerd $DOCKER_ENGINE_VERSION on $SOCK (log: $D/log/dockerd.log)"
# PATH: dockerd starts its own containerd, which finds the shim and runc next to it.
PATH="$BIN:$PATH" setsid "$BIN/dockerd" \
  --host "unix://$SOCK" \
  --data-root "$D/data" \
  --exec-root "$D/exec" \
  --pidfile "$D/run/dockerd.pid" \
  --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
  --userland-proxy-path "$BIN/docker-proxy" \
  --add-runtime "mcp-runc=$BIN/runc" --default-runtime mcp-runc \
  --init-path /usr/bin/tini-static \
  >>"$D/log/dockerd.log" 2>&1 </dev/null &
engine_await "$SOCK" "$D/log/dockerd.log" || exit 1
step "engine ready"

#!/usr/bin/env bash
# Installs everything the native stack and the tests need, idempotently, into one cache directory.
# A second run on a provisioned machine only checks stamps and finishes in seconds.
#   nginx-light (auth_request built in), openssl, iproute2, shellcheck — from Debian
#   Keycloak (dist zip from Maven Central, checksum-verified by Maven), pre-built for `start --optimized`
#   the database: mongod from PATH when present, else FerretDB built from the Go module proxy
# Prints one progress line per step to stderr; the last stdout line is the cache directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../versions.env
source "$ROOT/versions.env"
CACHE="${MCP_STACK_CACHE:-$HOME/.cache/mcp-security-stack}"
mkdir -p "$CACHE/bin" "$CACHE/dl"

step() { printf '[provision] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------------
need_pkgs=()
command -v nginx >/dev/null || need_pkgs+=(nginx-light)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v ip >/dev/null || need_pkgs+=(iproute2)
command -v unzip >/dev/null || need_pkgs+=(unzip)
command -v curl >/dev/null || need_pkgs+=(curl)
# `npm run lint` checks every shell script with it.
command -v shellcheck >/dev/null || need_pkgs+=(shellcheck)
command -v mvn >/dev/null || need_pkgs+=(maven)
# Headless Chromium drives the real authorization-code + PKCE login in the token-flow suite.
if [ "${PROVISION_BROWSER:-1}" = 1 ] && ! command -v chromium >/dev/null; then need_pkgs+=(chromium); fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  step "apt-get install ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi
# The Debian package enables and starts a default site; the stack runs its own nginx with its own config.
if [ -f /etc/nginx/sites-enabled/default ] && pgrep -x nginx >/dev/null 2>&1; then
  step "stopping the distribution's default nginx (the stack runs its own)"
  nginx -s quit 2>/dev/null || true
fi

# --- Java for Keycloak -----------------------------------------------------------------------------
java_home() {
  local j
  for j in /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/temurin-25* /usr/lib/jvm/java-21-openjdk-* /usr/lib/jvm/java-17-openjdk-*; do
    [ -x "$j/bin/java" ] && { echo "$j"; return; }
  done
  dirname "$(dirname "$(readlink -f "$(command -v java)")")"
}
JAVA_HOME="$(java_home)"
export JAVA_HOME

# --- Keycloak ----------------------------------------------------------------------------------------
KC_HOME="$CACHE/keycloak-$KEYCLOAK_VERSION"
if [ ! -x "$KC_HOME/bin/kc.sh" ]; then
  zip="$CACHE/dl/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
  if [ ! -s "$zip" ]; then
    step "downloading Keycloak $KEYCLOAK_VERSION from Maven Central (checksums verified strictly)"
    mvn -q -B --strict-checksums dependency:copy \
      -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
      -DoutputDirectory="$CACHE/dl" >&2
  fi
  step "unpacking Keycloak"
  rm -rf "$KC_HOME.tmp" && mkdir -p "$KC_HOME.tmp"
  unzip -q "$zip" -d "$KC_HOME.tmp"
  mv "$KC_HOME.tmp/keycloak-$KEYCLOAK_VERSION" "$KC_HOME" && rmdir "$KC_HOME.tmp"
fi
# Pre-build once per (version, build options) so every start is `start --optimized`.
# The build-time options live in keycloak/keycloak.conf, the same file compose mounts.
if [ -f "$ROOT/keycloak/keycloak.conf" ]; then
  want="$(sha256sum "$ROOT/keycloak/keycloak.conf" | cut -c1-16)"
  if [ "$(cat "$KC_HOME/.built" 2>/dev/null)" != "$want" ]; then
    step "pre-building Keycloak (kc.sh build) — once per configuration"
    cp "$ROOT/keycloak/keycloak.conf" "$KC_HOME/conf/keycloak.conf"
    "$KC_HOME/bin/kc.sh" build >"$CACHE/keycloak-build.log" 2>&1 || { tail -30 "$CACHE/keycloak-build.log" >&2; exit 1; }
    echo "$want" >"$KC_HOME/.built"
  fi
fi

# --- the database ------------------------------------------------------------------------------------
if command -v mongod >/dev/null; then
  step "database: mongod found on PATH ($(command -v mongod))"
else
  FERRET="$CACHE/bin/ferretdb-$FERRETDB_VERSION"
  if [ ! -x "$FERRET" ]; then
    step "building FerretDB $FERRETDB_VERSION from the Go module proxy (no mongod on PATH)"
    command -v go >/dev/null || { echo "provision: Go is required to build FerretDB" >&2; exit 1; }
    dir="$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
    src="$CACHE/src/ferretdb-$FERRETDB_VERSION"
    rm -rf "$src" && mkdir -p "$(dirname "$src")" && cp -r "$dir" "$src" && chmod -R u+w "$src"
    # The module zip lacks build/version/version.txt, and the binary panics at start without it.
    echo "$FERRETDB_VERSION" >"$src/build/version/version.txt"
    (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$FERRET.tmp" ./cmd/ferretdb) >&2
    mv "$FERRET.tmp" "$FERRET"
  fi
  ln -sf "$FERRET" "$CACHE/bin/ferretdb"
  # A broken build (e.g. the missing version.txt) panics at start: find out now, not in the runner.
  "$CACHE/bin/ferretdb" --version >/dev/null || { echo "provision: $FERRET does not run; delete it and re-run" >&2; exit 1; }
fi

step "ready: cache at $CACHE (java: $JAVA_HOME)"
echo "$CACHE"

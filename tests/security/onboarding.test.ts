/**
 * Client onboarding with nothing but the URL (issue #12), against the real edge and Keycloak: the metadata the
 * edge serves advertises only what answers, an MCP host registers itself (RFC 7591) within the realm's
 * anonymous-registration policies, a token asked for one resource opens only that one (RFC 8707), and the
 * official SDK client goes from the bare URL to a tool call and on to a step-up for the write route.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { launchChromium, NO_CHROMIUM } from '../harness/browser.ts';
import { InMemoryOAuthHost } from '../harness/oauth-host.ts';
import { claims, formLogin, serviceAgentToken, startPkce } from '../harness/tokens.ts';
import { fetchWithCa, rawInitialize, rawRequest } from '../harness/http.ts';
import { keycloakAdmin } from '../harness/keycloak-admin.ts';
import { recordProof } from '../harness/proof.ts';
import { publicClientMetadata } from '../harness/registration.ts';

const m = inject('manifest');
const f = fetchWithCa(m.caFile);
const REGISTRATION = `${m.issuer}/clients-registrations/openid-connect`;
const LOOPBACK_CALLBACK = 'http://127.0.0.1:33418/callback';

/** Every path where a client looks for the issuer's metadata (RFC 8414 §3.1 and OIDC Discovery). */
const METADATA_PATHS = [
  '/.well-known/oauth-authorization-server/realms/mcp',
  '/.well-known/openid-configuration/realms/mcp',
  '/realms/mcp/.well-known/openid-configuration',
  '/realms/mcp/.well-known/oauth-authorization-server',
];

type Metadata = Record<string, unknown>;

/** The edge's answer for an MCP initialize with `token` on `path`: status and the challenge's error, if any. */
async function initialize(path: string, token: string): Promise<{ status: number; error: string | undefined }> {
  const r = await rawInitialize(m, path, { authorization: `Bearer ${token}` }, 'onboarding');
  const challenge = String(r.headers['www-authenticate'] ?? '');
  return { status: r.status, error: /error="([^"]+)"/.exec(challenge)?.[1] };
}

async function register(body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await f(REGISTRATION, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { raw: text.slice(0, 200) };
  }
  return { status: r.status, json };
}

const publicClient = (extra: Record<string, unknown> = {}) => publicClientMetadata('onboarding-attack', LOOPBACK_CALLBACK, extra);

async function tokenRequest(params: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await f(`${m.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString(),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

describe('the authorization-server metadata served at the edge', () => {
  it('is the same document at every discovery path, advertises only endpoints that answer and only grants a client can use', async (ctx) => {
    const docs: Metadata[] = [];
    for (const path of METADATA_PATHS) {
      const r = await f(`${m.edgeUrl}${path}`);
      expect(r.status, path).toBe(200);
      docs.push((await r.json()) as Metadata);
    }
    for (const d of docs) expect(d).toEqual(docs[0]);
    const doc = docs[0]!;
    expect(doc.issuer).toBe(m.issuer);
    expect(doc.registration_endpoint).toBe(REGISTRATION);
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
    expect(doc.grant_types_supported).not.toContain('password');
    expect(doc.grant_types_supported).not.toContain('implicit');
    const endpoints = Object.entries(doc).filter(([k, v]) => /(_endpoint|^jwks_uri)$/.test(k) && typeof v === 'string') as [string, string][];
    const answers: string[] = [];
    for (const [field, url] of endpoints) {
      const r = await f(url, { redirect: 'manual' });
      await r.body?.cancel();
      answers.push(`${field} ${r.status}`);
      expect(r.status === 404 || r.status >= 500, `${field} ${url} answered ${r.status}`).toBe(false);
    }
    recordProof(ctx, {
      attack: `GET every endpoint advertised in the AS metadata at ${METADATA_PATHS.length} discovery paths`,
      expected: 'one document; each endpoint answers (no 404/5xx); no password/implicit grant; S256 only',
      observed: answers.join(', '),
    });
  });

  it("agrees with Keycloak's own metadata on every value it advertises (a subset, never an invention)", async (ctx) => {
    if (!m.keycloakInternalUrl) return ctx.skip('compose: the host cannot reach Keycloak behind the edge');
    const edge = (await (await f(`${m.edgeUrl}${METADATA_PATHS[0]}`)).json()) as Metadata;
    // Keycloak builds its URLs from the forwarded headers, exactly as the edge sends them.
    const kc = (await (
      await fetch(`${m.keycloakInternalUrl}/realms/mcp/.well-known/openid-configuration`, {
        headers: { 'x-forwarded-host': new URL(m.edgeUrl).host, 'x-forwarded-proto': 'https' },
      })
    ).json()) as Metadata;
    for (const [k, v] of Object.entries(edge)) {
      // Keycloak lists only authenticating methods; `none` (public clients, RFC 7591 §2) is its own feature all the same.
      if (k === 'token_endpoint_auth_methods_supported') expect(kc[k], k).toEqual(expect.arrayContaining((v as string[]).filter((x) => x !== 'none')));
      else if (Array.isArray(v)) expect(kc[k], k).toEqual(expect.arrayContaining(v));
      else expect(kc[k], k).toEqual(v);
    }
    const dropped = Object.keys(kc).filter((k) => /_endpoint$/.test(k) && !(k in edge));
    recordProof(ctx, {
      attack: "compare the edge's AS metadata with Keycloak's",
      expected: 'every advertised value is Keycloak’s own',
      observed: `${Object.keys(edge).length} fields equal or subsets; not advertised: ${dropped.join(', ')}, grants ${(kc.grant_types_supported as string[]).filter((g) => !(edge.grant_types_supported as string[]).includes(g)).join(', ')}`,
    });
  });

  it("refuses the password grant even for Keycloak's built-in admin-cli client", async (ctx) => {
    const r = await tokenRequest({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: m.users.analyst.username,
      password: m.users.analyst.password,
      scope: 'mcp:read',
    });
    expect({ status: r.status, error: r.json.error }).toEqual({ status: 400, error: 'invalid_grant' });
    recordProof(ctx, {
      attack: "password grant for analyst via Keycloak's built-in public client admin-cli",
      expected: '400 invalid_grant, no token',
      observed: `${r.status} ${String(r.json.error)}`,
    });
  });
});

describe('RFC 8707: a token asked for one resource opens only that resource', () => {
  it.for([
    ['/mcp', m.resources.readOnly, 200, 403],
    ['/mcp/admin', m.resources.readWrite, 403, 200],
  ] as const)(
    'operator, both scopes, resource=%s: aud names that resource only, the other route answers 403 insufficient_scope',
    async ([label, resource, roStatus, rwStatus], ctx) => {
      const flow = await startPkce(m, 'mcp:read mcp:write', { resource });
      const tokens = await flow.finish(await formLogin(m, flow.url, m.users.operator.username, m.users.operator.password));
      const token = tokens.access_token;
      expect(claims(token).aud).toBe(resource);
      const ro = await initialize('/mcp', token);
      const rw = await initialize('/mcp/admin', token);
      expect([ro.status, rw.status]).toEqual([roStatus, rwStatus]);
      expect(roStatus === 403 ? ro.error : rw.error).toBe('insufficient_scope');
      recordProof(ctx, {
        attack: `operator's code-flow token with mcp:read mcp:write asked for resource ${label}, used on both routes`,
        expected: `aud ${label} only; /mcp ${roStatus}, /mcp/admin ${rwStatus} (insufficient_scope)`,
        observed: `aud ${String(claims(token).aud)}; /mcp ${ro.status}, /mcp/admin ${rw.status} ${ro.error ?? rw.error}`,
      });
    },
  );

  it('refuses a resource that is not ours with 400 invalid_target', async (ctx) => {
    const foreign = await startPkce(m, 'mcp:read', { resource: 'https://evil.example/mcp' });
    const refused = await foreign
      .finish(await formLogin(m, foreign.url, m.users.operator.username, m.users.operator.password))
      .catch((e: { error?: string }) => e);
    expect((refused as { error?: string }).error).toBe('invalid_target');
    recordProof(ctx, {
      attack: 'code flow with resource=https://evil.example/mcp',
      expected: '400 invalid_target at the code exchange, no token',
      observed: String((refused as { error?: string }).error),
    });
  });

  it.for([
    ['with the same resource', (r: string) => ({ resource: r })],
    ['with no resource', () => ({})],
  ] as const)(
    'keeps the binding through a refresh %s: the refreshed token names /mcp only, /mcp/admin answers 403 insufficient_scope',
    async ([how, extra], ctx) => {
      // Keycloak's resource-indicators feature records the resource in the (online) refresh token and narrows every
      // refreshed access token to it. Offline tokens lose that record on refresh (26.7.3) — hence none exist here.
      const flow = await startPkce(m, 'mcp:read mcp:write', { resource: m.resources.readOnly });
      const tokens = await flow.finish(await formLogin(m, flow.url, m.users.operator.username, m.users.operator.password));
      expect(claims(tokens.refresh_token!).typ).toBe('Refresh');
      const refreshed = await tokenRequest({
        grant_type: 'refresh_token',
        client_id: m.clients.agent.id,
        refresh_token: tokens.refresh_token!,
        ...extra(m.resources.readOnly),
      });
      expect(refreshed.status).toBe(200);
      const token = refreshed.json.access_token as string;
      expect(claims(token).aud).toBe(m.resources.readOnly);
      const [ro, rw] = [await initialize('/mcp', token), await initialize('/mcp/admin', token)];
      expect([ro.status, rw.status, rw.error]).toEqual([200, 403, 'insufficient_scope']);
      recordProof(ctx, {
        attack: `refresh (${how}) of the operator's /mcp token whose grant holds mcp:read and mcp:write, used on /mcp/admin`,
        expected: 'refreshed aud /mcp only; /mcp 200, /mcp/admin 403 insufficient_scope',
        observed: `refreshed aud ${String(claims(token).aud)}; /mcp ${ro.status}, /mcp/admin ${rw.status} ${String(rw.error)}`,
      });
    },
  );

  it('refuses a refresh that asks for the other resource: 400 invalid_target, no token', async (ctx) => {
    const flow = await startPkce(m, 'mcp:read mcp:write', { resource: m.resources.readOnly });
    const tokens = await flow.finish(await formLogin(m, flow.url, m.users.operator.username, m.users.operator.password));
    const r = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: m.clients.agent.id,
      refresh_token: tokens.refresh_token!,
      resource: m.resources.readWrite,
    });
    expect({ status: r.status, error: r.json.error, token: r.json.access_token }).toEqual({ status: 400, error: 'invalid_target', token: undefined });
    recordProof(ctx, {
      attack: "refresh of the operator's /mcp-bound grant asking for resource=/mcp/admin",
      expected: '400 invalid_target, no token',
      observed: `${r.status} ${String(r.json.error)}`,
    });
  });

  it('issues no offline token (Keycloak 26.7.3 refreshes those unbound): offline_access is not advertised and a login asking for it ends invalid_scope', async (ctx) => {
    // The SDK adds offline_access to its request only when the metadata lists it; a host that asks anyway is
    // refused at the authorization endpoint, before any login, rather than handed a token that opens both routes.
    const edge = (await (await f(`${m.edgeUrl}${METADATA_PATHS[0]}`)).json()) as Metadata;
    expect(edge.scopes_supported).not.toContain('offline_access');
    const flow = await startPkce(m, 'mcp:read mcp:write offline_access', { resource: m.resources.readOnly });
    const page = await f(flow.url, { redirect: 'manual' });
    const location = new URL(page.headers.get('location') ?? 'about:blank');
    expect({ status: page.status, error: location.searchParams.get('error') }).toEqual({ status: 302, error: 'invalid_scope' });
    expect(location.searchParams.get('code')).toBeNull();
    recordProof(ctx, {
      attack: 'code flow asking for mcp:read mcp:write offline_access with resource=/mcp',
      expected: 'offline_access not in the edge metadata; redirect with error=invalid_scope before login, no code',
      observed: `scopes_supported ${JSON.stringify(edge.scopes_supported)}; ${page.status} error=${String(location.searchParams.get('error'))}`,
    });
  });

  it('client credentials with resource (what the SDK sends) is served and bound; the write resource is invalid_target', async (ctx) => {
    const base = { grant_type: 'client_credentials', client_id: m.clients.service.id, client_secret: m.clients.service.secret, scope: 'mcp:read' };
    const ok = await tokenRequest({ ...base, resource: m.resources.readOnly });
    expect(ok.status).toBe(200);
    const token = ok.json.access_token as string;
    expect(claims(token).aud).toBe(m.resources.readOnly);
    expect((await initialize('/mcp', token)).status).toBe(200);
    const rw = await initialize('/mcp/admin', token);
    expect(rw).toEqual({ status: 403, error: 'insufficient_scope' });
    const admin = await tokenRequest({ ...base, resource: m.resources.readWrite });
    expect({ status: admin.status, error: admin.json.error }).toEqual({ status: 400, error: 'invalid_target' });
    // Without resource (openid-client's default here) nothing changes: the service agent's only audience is /mcp.
    expect(claims((await serviceAgentToken(m)).access_token).aud).toBe(m.resources.readOnly);
    recordProof(ctx, {
      attack: 'service agent: client credentials with resource=/mcp, then resource=/mcp/admin',
      expected: '200 aud /mcp (/mcp/admin 403 insufficient_scope); 400 invalid_target',
      observed: `${ok.status} aud ${String(claims(token).aud)}, /mcp/admin ${rw.status} ${rw.error}; ${admin.status} ${String(admin.json.error)}`,
    });
  });
});

/** A fetch trusting the stack's CA that records each response's method, URL and status. */
function recordingFetch(): { seen: string[]; spy: typeof fetch } {
  const seen: string[] = [];
  const spy = (async (input: string | URL | Request, init?: RequestInit) => {
    const r = await f(input, init);
    seen.push(`${init?.method ?? 'GET'} ${String(input instanceof Request ? input.url : input)} ${r.status}`);
    return r;
  }) as typeof fetch;
  return { seen, spy };
}

/** The user at the browser: logs in unless Keycloak already knows the browser, approves the consent page, lands on the callback. */
async function authorizeInBrowser(context: BrowserContext, url: URL, user: 'analyst' | 'operator'): Promise<URL> {
  const page = await context.newPage();
  const callback = page.waitForRequest((r) => r.url().startsWith(LOOPBACK_CALLBACK), { timeout: 60_000 });
  const next = () =>
    Promise.race([
      callback.then(() => 'callback' as const),
      page.waitForSelector('#username', { timeout: 60_000 }).then(() => 'login' as const),
      page.waitForSelector('#kc-oauth', { timeout: 60_000 }).then(() => 'consent' as const),
    ]);
  // The navigation may end at the host's loopback callback, where nothing listens here (Keycloak answers an
  // error such as invalid_scope by redirecting there at once): the request is what counts, not the page.
  await page.goto(url.toString()).catch(() => undefined);
  let step = await next();
  if (step === 'login') {
    await page.fill('#username', m.users[user].username);
    await page.fill('#password', m.users[user].password);
    await page.click('#kc-login');
    step = await Promise.race([
      callback.then(() => 'callback' as const),
      page.waitForSelector('#kc-oauth', { timeout: 60_000 }).then(() => 'consent' as const),
    ]);
  }
  // The consent page reuses #kc-login for "Yes".
  if (step === 'consent') await page.click('#kc-login');
  const landed = new URL((await callback).url());
  await page.close();
  return landed;
}

describe('an MCP host with nothing but the URL', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  it('registers itself, logs the operator in with PKCE S256 and resource, calls a tool, then steps up to mcp:write after a 403 and reaches /mcp/admin', {
    timeout: 240_000,
  }, async (ctx) => {
    if (!browser) return ctx.skip(NO_CHROMIUM);
    // The browser trusts the stack's private CA only for this context; a real host's user installs the CA.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    // An MCP host as a new user installs it: no client id, everything in memory.
    const host = new InMemoryOAuthHost({ name: 'onboarding-host', redirectUrl: LOOPBACK_CALLBACK });
    const { seen, spy } = recordingFetch();
    const connect = async (url: string) => {
      const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: host, fetch: spy as never });
      const client = new Client({ name: 'onboarding-host', version: '1.0.0' });
      await client.connect(transport);
      return { client, transport };
    };
    /** One connection attempt that must end at the authorization server; returns the URL the host was sent to. */
    const mustAuthorize = async (url: string) => {
      host.authorizationUrl = undefined;
      await expect(connect(url)).rejects.toBeInstanceOf(UnauthorizedError);
      return host.authorizationUrl!;
    };
    const finish = async (url: string, callback: URL) => {
      const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: host, fetch: spy as never });
      await transport.finishAuth(callback.searchParams as never);
    };

    // 1. First contact with /mcp: 401 → RFC 9728 metadata → the edge's AS metadata → registration → authorize.
    const first = await mustAuthorize(m.resources.readOnly);
    expect(host.registrations).toHaveLength(1);
    expect(seen).toContain(`POST ${REGISTRATION} 201`);
    expect(first.searchParams.get('client_id')).toBe(host.registrations[0]);
    expect(first.searchParams.get('code_challenge_method')).toBe('S256');
    expect(first.searchParams.get('resource')).toBe(m.resources.readOnly);
    await finish(m.resources.readOnly, await authorizeInBrowser(context, first, 'operator'));
    const ro = await connect(m.resources.readOnly);
    const listed = await ro.client.callTool({ name: 'list-databases', arguments: {} });
    await ro.transport.terminateSession().catch(() => undefined);
    await ro.client.close();
    const c = claims(host.tokens()!.access_token);
    expect(
      listed.isError,
      `${JSON.stringify(listed.content)} ${JSON.stringify({ azp: c.azp, scope: c.scope, aud: c.aud, roles: c.realm_access, user: c.preferred_username })}`,
    ).toBeFalsy();
    expect(claims(host.tokens()!.access_token).aud).toBe(m.resources.readOnly);

    // 2. The same host at /mcp/admin: its /mcp token is refused 403 insufficient_scope, the SDK asks for more.
    // A host keeps discovery per server: SDK 2.4.0 would otherwise reuse the cached RFC 9728 metadata of /mcp
    // (and send resource=/mcp) even though the 403 challenge names /mcp/admin's metadata.
    host.invalidateCredentials('discovery');
    let stepUp = await mustAuthorize(m.resources.readWrite);
    expect(seen.some((s) => s.startsWith(`POST ${m.resources.readWrite} 403`))).toBe(true);
    expect(stepUp.searchParams.get('scope')?.split(' ')).toContain('mcp:write');
    expect(stepUp.searchParams.get('resource')).toBe(m.resources.readWrite);
    let callback = await authorizeInBrowser(context, stepUp, 'operator');
    const firstAnswer = callback.searchParams.get('error') ?? 'code';
    if (callback.searchParams.get('error') === 'invalid_scope') {
      // The registration fixed the client's scopes (the SDK registers with the first challenge's scope): SDK
      // 2.4.0 registers again with the wider scope (it does not use RFC 7592, which the edge serves).
      host.invalidateCredentials('client');
      host.invalidateCredentials('discovery');
      stepUp = await mustAuthorize(m.resources.readWrite);
      expect(host.registrations).toHaveLength(2);
      callback = await authorizeInBrowser(context, stepUp, 'operator');
    }
    expect(callback.searchParams.get('error')).toBeNull();
    await finish(m.resources.readWrite, callback);
    const rw = await connect(m.resources.readWrite);
    const tools = await rw.client.listTools();
    await rw.transport.terminateSession().catch(() => undefined);
    await rw.client.close();
    await context.close();
    expect(tools.tools.map((t) => t.name)).toContain('insert-many');
    expect(claims(host.tokens()!.access_token).aud).toBe(m.resources.readWrite);
    recordProof(ctx, {
      attack: 'official SDK client given only the MCP URL (no client id), operator in Chromium, then /mcp/admin',
      expected: 'registers (RFC 7591), PKCE S256 + resource, tool call on /mcp; 403 insufficient_scope on /mcp/admin, step-up to mcp:write, /mcp/admin served',
      observed: `${host.registrations.length} registration(s); /mcp tool ok; /mcp/admin 403 then step-up (first answer: ${firstAnswer}); write tools listed`,
    });
  });
});

describe('anonymous registration at the edge: what an attacker may not register', () => {
  it.for([
    ['a redirect URI on a foreign https host', 'https://attacker.example/callback'],
    ['a plain-http redirect URI on a LAN address', 'http://192.168.1.5/callback'],
    ['a redirect URI on a look-alike host', 'http://127.0.0.1.attacker.example/callback'],
    ['a private-use scheme redirect URI', 'cursor://anysphere.cursor-mcp/oauth/callback'],
    ['a wildcard loopback redirect URI', 'http://127.0.0.1/*'],
  ] as const)('refuses %s: 403, invalid_request (client policy mcp-anonymous-registration)', async ([what, uri], ctx) => {
    const r = await register(publicClient({ redirect_uris: [uri] }));
    expect({ status: r.status, error: r.json.error, description: r.json.error_description }).toEqual({
      status: 403,
      error: 'insufficient_scope',
      description: 'invalid_request',
    });
    recordProof(ctx, {
      attack: `anonymous registration with ${what} (${uri})`,
      expected: '403 insufficient_scope / invalid_request (secure-redirect-uris-enforcer: loopback only), no client',
      observed: `${r.status} ${String(r.json.error)} / ${String(r.json.error_description)}`,
    });
  });

  it('refuses the token-exchange scope: 403, policy "MCP scopes only"', async (ctx) => {
    const r = await register(publicClient({ scope: 'mcp:read mcp:exchange' }));
    expect({ status: r.status, error: r.json.error }).toEqual({ status: 403, error: 'insufficient_scope' });
    expect(r.json.error_description).toContain("Policy 'MCP scopes only'");
    recordProof(ctx, {
      attack: 'anonymous registration asking for mcp:exchange',
      expected: "403 insufficient_scope, policy 'MCP scopes only'",
      observed: `${r.status} ${String(r.json.error)}: ${String(r.json.error_description).slice(0, 90)}`,
    });
  });

  it('issues no offline token to a registered host that names offline_access: login, then 400 not_allowed at the code exchange', async (ctx) => {
    // Refusing the registration would strand hosts written for other servers; Keycloak keeps the scope string but
    // the realm has no offline_access scope or role to grant, so the exchange is refused — never an offline token,
    // whose refresh Keycloak 26.7.3 does not bind to the resource.
    const r = await register(publicClient({ scope: 'mcp:read mcp:write offline_access' }));
    expect(r.status).toBe(201);
    const flow = await startPkce(
      m,
      'mcp:read offline_access',
      { resource: m.resources.readOnly },
      { id: String(r.json.client_id), redirectUri: LOOPBACK_CALLBACK },
    );
    const callback = await formLogin(m, flow.url, m.users.operator.username, m.users.operator.password);
    const refused = (await flow.finish(callback).then(
      (tokens) => ({ status: 200, error: undefined, typ: tokens.refresh_token ? claims(tokens.refresh_token).typ : undefined }),
      (e: { status?: number; error?: string }) => ({ status: e.status, error: e.error, typ: undefined }),
    )) as { status?: number; error?: string; typ?: unknown };
    expect(refused).toEqual({ status: 400, error: 'not_allowed', typ: undefined });
    recordProof(ctx, {
      attack: 'anonymous registration with scope offline_access, operator logs in asking for offline_access',
      expected: 'registered; code exchange 400 not_allowed, no token',
      observed: `${r.status}; exchange ${String(refused.status)} ${String(refused.error)}`,
    });
  });

  it('registers a loopback client of a host that names its homepage (client_uri), as the MCP Inspector does', async (ctx) => {
    const r = await register(
      publicClient({
        client_name: 'onboarding-inspector-like',
        redirect_uris: ['http://localhost:6276/oauth/callback'],
        client_uri: 'https://github.com/modelcontextprotocol/inspector',
        application_type: 'native',
      }),
    );
    expect(r.status).toBe(201);
    expect(r.json.token_endpoint_auth_method).toBe('none');
    recordProof(ctx, {
      attack: 'registration as the MCP Inspector sends it (loopback redirect, client_uri on github.com)',
      expected: '201, a public client',
      observed: `${r.status}, token_endpoint_auth_method ${String(r.json.token_endpoint_auth_method)}`,
    });
  });

  it.for([
    ['a confidential client (client_secret_basic)', { token_endpoint_auth_method: 'client_secret_basic' }],
    ['a confidential client (private_key_jwt)', { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://attacker.example/jwks' }],
    ['a client with no token_endpoint_auth_method (RFC 7591 default: client_secret_basic)', { token_endpoint_auth_method: undefined }],
    ['the password grant', { grant_types: ['password'] }],
    ['the implicit grant', { grant_types: ['implicit'], response_types: ['token'] }],
  ] as const)('refuses %s: 403, invalid_client_metadata (client policy mcp-anonymous-registration)', async ([what, extra], ctx) => {
    const r = await register(publicClient(extra));
    // Keycloak answers a client-policy refusal at the registration endpoint as 403 insufficient_scope and puts
    // the policy's own code in the description.
    expect({ status: r.status, error: r.json.error, description: r.json.error_description }).toEqual({
      status: 403,
      error: 'insufficient_scope',
      description: 'invalid_client_metadata',
    });
    recordProof(ctx, {
      attack: `anonymous registration of ${what}`,
      expected: '403 insufficient_scope / invalid_client_metadata, no client',
      observed: `${r.status} ${String(r.json.error)} / ${String(r.json.error_description)}`,
    });
  });

  it('lets no registered client use client credentials: 401 unauthorized_client at the token endpoint', async (ctx) => {
    // Keycloak accepts `client_credentials` in a public client's metadata, but a public client has no credential.
    const r = await register(publicClient({ grant_types: ['client_credentials'], client_name: 'onboarding-cc' }));
    expect(r.status).toBe(201);
    const t = await tokenRequest({ grant_type: 'client_credentials', client_id: r.json.client_id as string, scope: 'mcp:read' });
    expect({ status: t.status, error: t.json.error }).toEqual({ status: 401, error: 'unauthorized_client' });
    recordProof(ctx, {
      attack: 'register a public client with grant_types [client_credentials], then ask for a token',
      expected: '401 unauthorized_client, no token',
      observed: `registered ${r.status}; token ${t.status} ${String(t.json.error)}`,
    });
  });

  it('answers only POST, with a small body', async (ctx) => {
    const get = await rawRequest(m, { path: new URL(REGISTRATION).pathname });
    expect({ status: get.status, body: get.body.trim(), allow: get.headers.allow }).toEqual({
      status: 405,
      body: '{"error":"method_not_allowed"}',
      allow: 'POST',
    });
    const big = await register(publicClient({ client_name: 'x'.repeat(20_000) }));
    expect(big.status).toBe(413);
    recordProof(ctx, {
      attack: 'GET the registration endpoint; POST a 20 kB registration',
      expected: '405 method_not_allowed (Allow: POST); 413',
      observed: `${get.status} ${get.body.trim()}; ${big.status}`,
    });
  });

  it('rate-limits registrations per address: a flood gets 429 rate_limited at the edge', async (ctx) => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => register(publicClient({ client_name: `onboarding-flood-${i}` }))));
    const count = (s: number) => results.filter((r) => r.status === s).length;
    expect(count(429)).toBeGreaterThan(0);
    expect(results.filter((r) => r.status === 429).every((r) => r.json.error === 'rate_limited')).toBe(true);
    expect(count(201) + count(429)).toBe(40);
    recordProof(ctx, {
      attack: '40 registrations at once from one address through the edge',
      expected: 'at most the burst (20) registered, the rest 429 rate_limited',
      observed: `201 ×${count(201)}, 429 ×${count(429)}`,
    });
    await removeClients(/^onboarding-/);
  });

  it('caps the number of clients in the realm: past it Keycloak refuses 403 insufficient_scope', { timeout: 240_000 }, async (ctx) => {
    if (!m.keycloakInternalUrl)
      return ctx.skip('compose: the host cannot reach Keycloak behind the edge, and the edge rate limit makes filling the cap through it take minutes');
    // Behind the edge (its rate limit would make this take minutes): straight at Keycloak's listener.
    const direct = (body: Record<string, unknown>) =>
      fetch(`${m.keycloakInternalUrl}/realms/mcp/clients-registrations/openid-connect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    let created = 0;
    let refused: Response | undefined;
    for (let i = 0; i < 250 && !refused; i++) {
      const r = await direct(publicClient({ client_name: `onboarding-cap-${i}` }));
      if (r.status === 201) {
        created++;
        await r.body?.cancel();
      } else refused = r;
    }
    const body = refused ? ((await refused.json().catch(() => ({}))) as Record<string, unknown>) : {};
    await removeClients(/^onboarding-/);
    expect(refused?.status).toBe(403);
    recordProof(ctx, {
      attack: 'anonymous registrations until Keycloak stops accepting them',
      expected: '403 at the realm cap (200 clients)',
      observed: `${created} registered, then ${refused?.status} ${String(body.error)}`,
    });
  });
});

/** Removes the clients this suite registered (by name), so the realm's cap is not spent for later suites. */
async function removeClients(name: RegExp): Promise<void> {
  const api = await keycloakAdmin(m);
  if (!api) return;
  const clients = (await (await api('/clients?max=1000')).json()) as { id: string; name?: string }[];
  for (const c of clients.filter((c) => c.name && name.test(c.name))) await api(`/clients/${c.id}`, { method: 'DELETE' });
}

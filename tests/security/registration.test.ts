/**
 * Dynamic client registration at the edge (issue #12), against the real edge and Keycloak: every refusal at the
 * registration routes is RFC 7591 JSON and never cached; the registration_client_uri Keycloak hands out is served
 * (RFC 7592 read, update, delete) with the anonymous-registration policies applied to updates as well; the
 * registration access token reaches no log; and registrations nobody used expire, so an anonymous flood from many
 * addresses cannot hold the realm's client cap.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { rawRequest, type RawResponse } from '../harness/http.ts';
import { keycloakAdmin, type AdminApi } from '../harness/keycloak-admin.ts';
import { currentManifest } from '../harness/manifest.ts';
import { recordProof } from '../harness/proof.ts';
import { publicClientMetadata } from '../harness/registration.ts';
import { formLogin, startPkce } from '../harness/tokens.ts';
import { waitFor } from '../../scripts/stack/process.ts';
import { envOf, loadCompose } from '../compose/compose-file.ts';

const m = inject('manifest');
const REGISTRATION = `${m.issuer}/clients-registrations/openid-connect`;
const REGISTRATION_PATH = new URL(REGISTRATION).pathname;
const LOOPBACK_CALLBACK = 'http://127.0.0.1:33419/callback';
const NO_ADMIN = 'compose: the host cannot reach Keycloak behind the edge (no admin API, no reaper run from here)';

type Json = Record<string, unknown>;

const publicClient = (extra: Json = {}): Json => publicClientMetadata('registration-suite', LOOPBACK_CALLBACK, extra);

const parse = (body: string): Json => {
  try {
    return JSON.parse(body) as Json;
  } catch {
    return { raw: body.slice(0, 120) };
  }
};

/**
 * One request at a registration route, exactly as sent. A 429 from the edge's per-address registration limit
 * (30/min after a burst of 20, shared with the other suites on this stack) is waited out as its Retry-After
 * says, like a well-behaved host: these tests are about the answer after the limit, not the limit itself.
 */
async function patient(o: Parameters<typeof rawRequest>[1]): Promise<RawResponse & { json: Json }> {
  for (let attempt = 0; ; attempt++) {
    const r = await rawRequest(m, o);
    if (r.status !== 429 || attempt >= 40) return { ...r, json: parse(r.body) };
    await new Promise((done) => setTimeout(done, 1000 * Number(r.headers['retry-after'] ?? 2)));
  }
}

const register = (body: Json) =>
  patient({ method: 'POST', path: REGISTRATION_PATH, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** RFC 7592 request on the client configuration endpoint the registration named. */
const manage = (uri: string, method: string, token: string | undefined, body?: Json) =>
  patient({
    method,
    path: new URL(uri).pathname,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

/** The client metadata as a host sends it back on update (RFC 7592 §2.2: without the two registration fields). */
const metadataOf = (j: Json): Json => {
  const { registration_access_token: _t, registration_client_uri: _u, client_id_issued_at: _i, ...rest } = j;
  return rest;
};

const headersOf = (r: RawResponse) => ({ type: String(r.headers['content-type']).split(';')[0], cache: r.headers['cache-control'] });

/** Every registration access token this suite saw: none may appear in any log (see the last test). */
const tokensSeen = new Set<string>();
const remember = (j: Json) => {
  if (typeof j.registration_access_token === 'string') tokensSeen.add(j.registration_access_token);
  return j;
};

describe('refusals at the registration endpoint are RFC 7591 JSON, never cached', () => {
  it.for([
    ['a 20 kB registration', 'application/json', JSON.stringify(publicClient({ client_name: 'x'.repeat(20_000) })), 413],
    ['metadata sent as a form', 'application/x-www-form-urlencoded', 'redirect_uris=http://127.0.0.1/cb', 400],
    ['an empty body', 'application/json', '', 400],
    ['a body that is not JSON', 'application/json', '{"redirect_uris": [', 400],
    ['a JSON array instead of an object', 'application/json', '[]', 400],
    ['a member Keycloak does not know (it names its Java class in its own answer)', 'application/json', JSON.stringify(publicClient({ x_unknown: 1 })), 400],
  ] as const)('refuses %s with invalid_client_metadata in JSON and Cache-Control: no-store', async ([what, type, body, status], ctx) => {
    const r = await patient({ method: 'POST', path: REGISTRATION_PATH, headers: { 'content-type': type }, body });
    expect({ status: r.status, error: r.json.error, ...headersOf(r) }).toEqual({
      status,
      error: 'invalid_client_metadata',
      type: 'application/json',
      cache: 'no-store',
    });
    expect(typeof r.json.error_description).toBe('string');
    recordProof(ctx, {
      attack: `POST to the registration endpoint: ${what}`,
      expected: `${status} {"error":"invalid_client_metadata",...}, application/json, no-store`,
      observed: `${r.status} ${String(r.json.error)}: ${String(r.json.error_description)}; ${headersOf(r).type}, ${String(headersOf(r).cache)}`,
    });
  });

  it('refuses other methods with 405 method_not_allowed in JSON, naming POST', async (ctx) => {
    const r = await patient({ method: 'GET', path: REGISTRATION_PATH });
    expect({ status: r.status, error: r.json.error, allow: r.headers.allow, ...headersOf(r) }).toEqual({
      status: 405,
      error: 'method_not_allowed',
      allow: 'POST',
      type: 'application/json',
      cache: 'no-store',
    });
    recordProof(ctx, {
      attack: 'GET the registration endpoint',
      expected: '405 method_not_allowed, Allow: POST, JSON, no-store',
      observed: `${r.status} ${String(r.json.error)}, Allow: ${String(r.headers.allow)}, ${String(headersOf(r).cache)}`,
    });
  });

  it('answers a registration with no-store: the answer carries the registration access token', async (ctx) => {
    const r = await register(publicClient({ client_name: 'registration-suite-store' }));
    remember(r.json);
    expect({ status: r.status, ...headersOf(r), pragma: r.headers.pragma }).toEqual({
      status: 201,
      type: 'application/json',
      cache: 'no-store',
      pragma: 'no-cache',
    });
    expect(typeof r.json.registration_access_token).toBe('string');
    // Keycloak's own security headers are dropped: each is sent once, the edge's.
    expect(r.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    recordProof(ctx, {
      attack: 'register a client and read the caching headers of the answer that holds its registration access token',
      expected: '201, Cache-Control: no-store, Pragma: no-cache, one HSTS header',
      observed: `${r.status}, ${String(r.headers['cache-control'])}, ${String(r.headers.pragma)}, HSTS ${String(r.headers['strict-transport-security'])}`,
    });
  });
});

describe('RFC 7592: a host manages its own registration at the URI Keycloak names', () => {
  it('names a client configuration endpoint on the edge and serves it: GET with the registration access token reads the client', async (ctx) => {
    const reg = remember((await register(publicClient({ client_name: 'registration-suite-read' }))).json);
    const uri = String(reg.registration_client_uri);
    expect(uri).toBe(`${REGISTRATION}/${String(reg.client_id)}`);
    expect(new URL(uri).origin).toBe(m.edgeUrl);
    const read = await manage(uri, 'GET', String(reg.registration_access_token));
    expect({ status: read.status, client_id: read.json.client_id, redirect_uris: read.json.redirect_uris, ...headersOf(read) }).toEqual({
      status: 200,
      client_id: reg.client_id,
      redirect_uris: [LOOPBACK_CALLBACK],
      type: 'application/json',
      cache: 'no-store',
    });
    recordProof(ctx, {
      attack: 'follow registration_client_uri from the registration answer, with the registration access token',
      expected: 'the URI is the edge origin + the registration path + client id; GET 200 with the client, no-store',
      observed: `${uri.replace(m.edgeUrl, '<edge>')}; GET ${read.status} ${String(read.json.client_id === reg.client_id ? 'same client' : 'other')}, ${String(headersOf(read).cache)}`,
    });
  });

  it.for([
    ['widens the redirect URIs to a foreign https host', { redirect_uris: ['https://attacker.example/callback'] }, 'invalid_request'],
    ['adds a foreign redirect URI next to the loopback one', { redirect_uris: [LOOPBACK_CALLBACK, 'https://attacker.example/callback'] }, 'invalid_request'],
    ['switches to a confidential client', { token_endpoint_auth_method: 'client_secret_basic' }, 'invalid_client_metadata'],
    ['switches on the implicit grant', { grant_types: ['implicit'], response_types: ['token'] }, 'invalid_client_metadata'],
    // The registration policy (components) names itself in the description, whole sentence.
    ['asks for the token-exchange scope', { scope: 'mcp:read mcp:exchange' }, "Policy 'MCP scopes only'"],
  ] as const)('refuses an update that %s: 403, the anonymous-registration policies apply to updates too', async ([what, patch, reason], ctx) => {
    const reg = remember((await register(publicClient({ client_name: 'registration-suite-update' }))).json);
    const r = await manage(String(reg.registration_client_uri), 'PUT', String(reg.registration_access_token), { ...metadataOf(reg), ...patch });
    const read = remember((await manage(String(reg.registration_client_uri), 'GET', String(reg.registration_access_token))).json);
    const description = String(r.json.error_description);
    expect({ status: r.status, error: r.json.error, reason: reason.startsWith('Policy') ? description.slice(0, reason.length) : description }).toEqual({
      status: 403,
      error: 'insufficient_scope',
      reason,
    });
    expect({ redirect_uris: read.redirect_uris, auth: read.token_endpoint_auth_method, scope: read.scope }).toEqual({
      redirect_uris: [LOOPBACK_CALLBACK],
      auth: 'none',
      scope: 'mcp:read',
    });
    recordProof(ctx, {
      attack: `RFC 7592 PUT with the client's own registration access token that ${what}`,
      expected: `403 insufficient_scope / ${reason} (mcp-anonymous-registration applies ByRegistrationAccessToken); client unchanged`,
      observed: `${r.status} ${String(r.json.error)} / ${description.slice(0, 60)}; redirect_uris ${JSON.stringify(read.redirect_uris)}, auth ${String(read.token_endpoint_auth_method)}, scope ${String(read.scope)}`,
    });
  });

  it('accepts a harmless update, rotates the registration access token, and refuses the old one with 401 invalid_token', async (ctx) => {
    const reg = remember((await register(publicClient({ client_name: 'registration-suite-rename' }))).json);
    const uri = String(reg.registration_client_uri);
    const old = String(reg.registration_access_token);
    const r = await manage(uri, 'PUT', old, { ...metadataOf(reg), client_name: 'registration-suite-renamed' });
    remember(r.json);
    const stale = await manage(uri, 'GET', old);
    expect({ status: r.status, name: r.json.client_name, rotated: r.json.registration_access_token !== old, cache: r.headers['cache-control'] }).toEqual({
      status: 200,
      name: 'registration-suite-renamed',
      rotated: true,
      cache: 'no-store',
    });
    expect({ status: stale.status, error: stale.json.error }).toEqual({ status: 401, error: 'invalid_token' });
    recordProof(ctx, {
      attack: 'RFC 7592 PUT changing client_name, then GET with the token used for it',
      expected: '200 with a new registration access token; the old one 401 invalid_token',
      observed: `${r.status} ${String(r.json.client_name)}, rotated ${String(r.json.registration_access_token !== old)}; old token ${stale.status} ${String(stale.json.error)}`,
    });
  });

  it("refuses another client's registration access token, and no token at all, with 401 invalid_token", async (ctx) => {
    const victim = remember((await register(publicClient({ client_name: 'registration-suite-victim' }))).json);
    const attacker = remember((await register(publicClient({ client_name: 'registration-suite-attacker' }))).json);
    const uri = String(victim.registration_client_uri);
    const answers = [
      await manage(uri, 'GET', String(attacker.registration_access_token)),
      await manage(uri, 'DELETE', String(attacker.registration_access_token)),
      await manage(uri, 'PUT', String(attacker.registration_access_token), { ...metadataOf(victim), client_name: 'taken' }),
      await manage(uri, 'DELETE', undefined),
    ];
    expect(answers.map((a) => `${a.status} ${String(a.json.error)}`)).toEqual(Array(4).fill('401 invalid_token'));
    const still = await manage(uri, 'GET', String(victim.registration_access_token));
    expect({ status: still.status, name: still.json.client_name }).toEqual({ status: 200, name: 'registration-suite-victim' });
    recordProof(ctx, {
      attack: "GET/DELETE/PUT another host's registration with my own registration access token; DELETE with none",
      expected: '401 invalid_token ×4; the victim unchanged',
      observed: `${answers.map((a) => `${a.status} ${String(a.json.error)}`).join(', ')}; victim GET ${still.status} ${String(still.json.client_name)}`,
    });
  });

  it('deletes the registration with DELETE (204): the client is gone and its place under the realm cap is free', async (ctx) => {
    const api = await keycloakAdmin(m);
    const count = async () => (api ? ((await (await api('/clients?max=1000')).json()) as unknown[]).length : undefined);
    const reg = remember((await register(publicClient({ client_name: 'registration-suite-delete' }))).json);
    const before = await count();
    const del = await manage(String(reg.registration_client_uri), 'DELETE', String(reg.registration_access_token));
    const after = await count();
    const gone = await manage(String(reg.registration_client_uri), 'GET', String(reg.registration_access_token));
    expect({ status: del.status, cache: del.headers['cache-control'] }).toEqual({ status: 204, cache: 'no-store' });
    expect({ status: gone.status, error: gone.json.error }).toEqual({ status: 401, error: 'invalid_token' });
    if (before !== undefined) expect(after).toBe(before - 1);
    recordProof(ctx, {
      attack: 'RFC 7592 DELETE with the registration access token, then GET',
      expected: '204; GET 401 invalid_token; one client fewer in the realm',
      observed: `${del.status}; GET ${gone.status} ${String(gone.json.error)}; clients ${before ?? '?'} → ${after ?? '?'}${api ? '' : ' (compose: not counted)'}`,
    });
  });

  it.for([
    ['POST on a client configuration endpoint', 'POST', `${REGISTRATION_PATH}/00000000-0000-4000-8000-000000000000`, 405, 'method_not_allowed'],
    ["a static client's id (it has no registration to manage)", 'GET', `${REGISTRATION_PATH}/${m.clients.agent.id}`, 404, 'not_found'],
    ['an id with a query string and a dot segment', 'GET', `${REGISTRATION_PATH}/../openid-connect/x?client_id=admin-cli`, 404, 'not_found'],
  ] as const)('answers %s at the edge with %i in JSON', async ([what, method, path, status, error], ctx) => {
    const r = await patient({ method, path, headers: { 'content-type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
    expect({ status: r.status, error: r.json.error, type: headersOf(r).type }).toEqual({ status, error, type: 'application/json' });
    recordProof(ctx, {
      attack: `${method} ${path.replace(REGISTRATION_PATH, '<registration>')}: ${what}`,
      expected: `${status} ${error}`,
      observed: `${r.status} ${String(r.json.error)}`,
    });
  });
});

/** The reaper (scripts/dcr/main.ts) as its own process against Keycloak's listener, with a short TTL. */
function startReaper(ttlSeconds: number): { lines: string[]; child: ChildProcess } {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../../scripts/dcr/main.ts')], {
    env: {
      PATH: process.env.PATH ?? '',
      DCR_REAPER_KEYCLOAK_URL: m.keycloakInternalUrl ?? '',
      DCR_REAPER_CLIENT_SECRET_FILE: join(m.secretsDir, 'dcr_reaper_secret'),
      DCR_REAPER_TTL_S: String(ttlSeconds),
      DCR_REAPER_INTERVAL_S: '1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { lines, child };
}

const reapers: ChildProcess[] = [];
afterAll(() => {
  for (const r of reapers) r.kill('SIGTERM');
});

/**
 * The suites share one stack and one address: leave the edge's registration budget for this address as found.
 * nginx's leaky bucket (edge_registration: burst 20, 30/min) is empty 40 s after the last request; nothing can
 * observe it sooner without spending from it, so this is a timed wait, not a poll.
 */
const BUCKET_DRAIN_MS = (20 / 30) * 60_000 + 1_000;
afterAll(() => new Promise((done) => setTimeout(done, BUCKET_DRAIN_MS)), BUCKET_DRAIN_MS + 10_000);

/** Logs the user in to `clientId` and approves the consent page: the client has been used. */
async function useClient(clientId: string): Promise<void> {
  const flow = await startPkce(m, 'mcp:read', {}, { id: clientId, redirectUri: LOOPBACK_CALLBACK });
  const callback = await formLogin(m, flow.url, m.users.analyst.username, m.users.analyst.password);
  expect(new URL(callback).searchParams.has('code')).toBe(true);
}

describe('exhaustion: an anonymous flood cannot hold the realm client cap', () => {
  it('runs the reaper as a supervised tier of the stack: started with its TTL, logged in to the admin API, swept', async (ctx) => {
    const log = m.logs.dcrReaper;
    if (!log || !existsSync(log)) return ctx.skip('this stack has no reaper log (manifest.logs.dcrReaper)');
    const events = readFileSync(log, 'utf8')
      .split('\n')
      .flatMap((l) => (l.startsWith('{') ? [parse(l)] : []));
    const started = events.find((e) => e.event === 'reaper_started');
    // Native: the manifest as it is now (a restarted tier has a new pid). Compose: the container's healthcheck
    // (a sweep within the last three intervals) gated the start, so the container is up; its log is followed.
    const pid = m.runtime === 'native' ? (await currentManifest()).pids?.['dcr-reaper'] : undefined;
    const ttl = Number((m.runtime === 'native' ? process.env : envOf(loadCompose().services['dcr-reaper'] ?? {})).DCR_REAPER_TTL_S ?? 3600);
    expect(started).toMatchObject({ component: 'dcr-reaper', realm: 'mcp', ttl_s: ttl });
    // A sweep during a Keycloak outage (the fault suites kill it) fails and is logged; the reaper stays up.
    expect(events.some((e) => e.event === 'sweep')).toBe(true);
    if (m.runtime === 'native') expect(pid !== undefined && process.kill(pid, 0)).toBe(true);
    recordProof(ctx, {
      attack: "(configuration) the stack's own reaper: is it running, and can it reach the admin API with its own client?",
      expected: `${m.runtime === 'native' ? 'tier dcr-reaper alive (pid in the manifest)' : 'service dcr-reaper healthy'}, reaper_started with the TTL, a successful sweep`,
      observed: `${m.runtime === 'native' ? `pid ${String(pid)}` : 'compose service'}; ttl_s ${String(started?.ttl_s)}, interval_s ${String(started?.interval_s)}; ${events.filter((e) => e.event === 'sweep').length} sweep(s), ${events.filter((e) => e.event === 'sweep_failed').length} failed`,
    });
  });

  it('fills the cap, then the reaper expires the registrations nobody used (logged, no secret) and a new host registers again; a used client is kept', {
    timeout: 300_000,
  }, async (ctx) => {
    const api = await keycloakAdmin(m);
    if (!api || !m.keycloakInternalUrl) return ctx.skip(NO_ADMIN);
    // A host that registered and whose user logged in and consented: it must survive every sweep.
    const used = remember((await register(publicClient({ client_name: 'registration-suite-used' }))).json);
    await useClient(String(used.client_id));
    // The flood, straight at Keycloak's listener (through the edge, many addresses would be needed: 30/min each).
    let flooded = 0;
    for (let i = 0; i < 260; i++) {
      const r = await fetch(`${m.keycloakInternalUrl}/realms/mcp/clients-registrations/openid-connect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(publicClient({ client_name: `registration-suite-flood-${i}` })),
      });
      await r.body?.cancel();
      if (r.status !== 201) break;
      flooded++;
    }
    const full = await register(publicClient({ client_name: 'registration-suite-newcomer' }));
    expect({ status: full.status, error: full.json.error }).toEqual({ status: 403, error: 'insufficient_scope' });

    const reaper = startReaper(1);
    reapers.push(reaper.child);
    const events = () => reaper.lines.flatMap((l) => (l.startsWith('{') ? [parse(l)] : []));
    const expired = await waitFor(
      'the reaper to expire the flood',
      async () => {
        const sweeps = events().filter((e) => e.event === 'sweep' && Number(e.expired) > 0);
        return sweeps.length > 0 && events().filter((e) => e.event === 'registration_expired');
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    reaper.child.kill('SIGTERM');

    const again = await register(publicClient({ client_name: 'registration-suite-newcomer' }));
    remember(again.json);
    const kept = events().find((e) => e.event === 'registration_kept' && e.client_id === used.client_id);
    const usedNow = (await (await api(`/clients?clientId=${String(used.client_id)}`)).json()) as unknown[];
    expect(expired.length).toBeGreaterThanOrEqual(flooded);
    expect(again.status).toBe(201);
    expect(kept).toMatchObject({ reason: 'consent' });
    expect(usedNow).toHaveLength(1);
    // The log names client ids and ages, nothing else: no token, secret, or client metadata.
    const secret = readFileSync(join(m.secretsDir, 'dcr_reaper_secret'), 'utf8').trim();
    const log = reaper.lines.join('\n');
    expect(log).not.toContain(secret);
    for (const t of tokensSeen) expect(log).not.toContain(t);
    expect(Object.keys(expired[0]!).sort()).toEqual(['age_s', 'client_id', 'component', 'event', 'time', 'ttl_s']);
    recordProof(ctx, {
      attack: `fill the realm cap with ${flooded} anonymous registrations nobody uses; a newcomer registers through the edge`,
      expected: 'newcomer 403 at the cap; reaper (TTL 1 s) deletes every unused one, one log line each; newcomer then 201; the consented client kept',
      observed: `newcomer ${full.status} ${String(full.json.error)}; ${expired.length} registration_expired lines; newcomer again ${again.status}; used client ${usedNow.length === 1 ? 'kept' : 'gone'} (${String(kept?.reason)})`,
    });
  });
});

describe('the registration access token stays out of every log', () => {
  it('appears in no log of the edge, Keycloak, the verifier or the reaper', async (ctx) => {
    expect(tokensSeen.size).toBeGreaterThan(0);
    const files = Object.values(m.logs).filter((p) => p.startsWith('/') && existsSync(p));
    const hits = files.filter((p) => {
      const text = readFileSync(p, 'utf8');
      return [...tokensSeen].some((t) => text.includes(t) || text.includes(t.split('.')[2]!));
    });
    expect(hits).toEqual([]);
    recordProof(ctx, {
      attack: `${tokensSeen.size} registration access tokens issued, used, rotated and refused through the edge`,
      expected: 'no token (nor its signature) in any log file',
      observed: `${files.length} logs scanned, ${hits.length} with a token`,
    });
  });
});

describe('the edge rate-limits registration per address', () => {
  it('answers a flood with 429 rate_limited in JSON, no-store, Retry-After: the edge closed code, not a page', async (ctx) => {
    const flood = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        rawRequest(m, {
          method: 'POST',
          path: REGISTRATION_PATH,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(publicClient({ client_name: `registration-suite-burst-${i}` })),
        }),
      ),
    );
    const limited = flood.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(flood.every((r) => r.status === 201 || r.status === 429)).toBe(true);
    for (const r of limited) {
      expect({ body: parse(r.body), ...headersOf(r), retry: r.headers['retry-after'] }).toEqual({
        body: { error: 'rate_limited' },
        type: 'application/json',
        cache: 'no-store',
        retry: '1',
      });
    }
    recordProof(ctx, {
      attack: '40 registrations at once from one address',
      expected: 'the rest after the burst 429 {"error":"rate_limited"}, application/json, no-store, Retry-After',
      observed: `201 ×${flood.length - limited.length}, 429 ×${limited.length} (${limited[0]?.body.trim()}, ${String(limited[0]?.headers['cache-control'])})`,
    });
    await removeSuiteClients();
  });
});

/** Removes what this suite registered, so the realm's cap is not spent for later suites. */
async function removeSuiteClients(): Promise<void> {
  const api: AdminApi | null = await keycloakAdmin(m);
  if (!api) return;
  const clients = (await (await api('/clients?max=1000')).json()) as { id: string; name?: string }[];
  for (const c of clients.filter((c) => c.name?.startsWith('registration-suite'))) await api(`/clients/${c.id}`, { method: 'DELETE' });
}

/**
 * The real nginx (rendered from nginx/templates by scripts/stack/nginx.ts) in front of the real verifier
 * (node nginx/verifier/src/main.ts), a local JWKS, and stub upstreams that record what reaches them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, statSync, readdirSync, existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import { fileURLToPath } from 'node:url';
import { startNginx, NGINX_BIN, type Edge } from '../../scripts/stack/nginx.ts';
import { startService, waitFor, httpOk, type Service } from '../../scripts/stack/process.ts';
import { makeKey, sign, claims, BASE, RO, RW, type TestKey } from '../verifier/test/fixtures/tokens.ts';
import { startJwksServer, type JwksServer } from '../verifier/test/fixtures/jwks-server.ts';
import { startStub, type Stub } from './fixtures/upstreams.ts';
import { makeCert } from './fixtures/tls.ts';
import { edge, plain, handshake, rawTls, statusOf, type Target } from './fixtures/client.ts';
import { freePort } from '../../scripts/stack/ports.ts';

// Free ports, told to nginx and the verifier before they start. The edge's public name is edge.test:8443;
// clients dial 127.0.0.1.
// The stub_status listener too: a fixed port would collide with a parallel or leftover nginx.
const [https, http, status, verifierPort, roPort, rwPort, kcPort] = await Promise.all(Array.from({ length: 7 }, () => freePort()));
const P = { https, http, status, verifier: verifierPort, ro: roPort, rw: rwPort, kc: kcPort };
const SECRET = 'proxy-secret-for-tests-0123456789abcdef';
const haveNginx = existsSync(NGINX_BIN);

let dir: string;
let nginx: Edge | undefined;
let verifier: Service | undefined;
let jwks: JwksServer;
let ro: Stub, rw: Stub, kc: Stub;
let key: TestKey;
let t: Target;
const now = () => Math.floor(Date.now() / 1000);
const readToken = () => sign(key, claims({ iat: now(), exp: now() + 300 }));
// Audience includes the read-write resource, but neither the scope nor the role for it.
const readerWithBothAudiences = () => sign(key, claims({ iat: now(), exp: now() + 300, aud: [RO, RW] }));
const writeToken = () =>
  sign(
    key,
    claims({
      iat: now(),
      exp: now() + 300,
      aud: [RO, RW],
      scope: 'mcp:read mcp:write',
      realm_access: { roles: ['mcp-reader', 'mcp-writer'] },
      sub: 'user-operator-0002',
      preferred_username: 'operator',
    }),
  );
const mcpPost = (path: string, token?: string, headers: Record<string, string> = {}) =>
  edge(t, {
    method: 'POST',
    path,
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
  });

beforeAll(async () => {
  if (!haveNginx) return;
  dir = mkdtempSync(join(tmpdir(), 'edge-test-'));
  const { cert, key: tlsKey } = makeCert(dir);
  t = { port: P.https, ca: readFileSync(cert, 'utf8'), servername: 'edge.test' };
  key = await makeKey('realm-rs256');
  jwks = await startJwksServer(0, [key.jwk]);
  [ro, rw, kc] = await Promise.all([startStub(P.ro, 'mcp-ro'), startStub(P.rw, 'mcp-rw'), startStub(P.kc, 'keycloak')]);
  verifier = startService({
    name: 'verifier',
    command: process.execPath,
    args: [fileURLToPath(new URL('../verifier/src/main.ts', import.meta.url))],
    env: {
      VERIFIER_PORT: String(P.verifier),
      VERIFIER_ISSUER: `${BASE}/realms/mcp`,
      VERIFIER_JWKS_URL: jwks.url,
      VERIFIER_PUBLIC_BASE_URL: BASE,
      VERIFIER_AUDIT_LOG: join(dir, 'verifier.audit.jsonl'),
    },
    logFile: join(dir, 'verifier.log'),
  });
  await waitFor('verifier', () => httpOk(`http://127.0.0.1:${P.verifier}/healthz`), { service: verifier, timeoutMs: 20_000 });
  nginx = await startNginx({
    prefix: join(dir, 'nginx'),
    logFile: join(dir, 'nginx.log'),
    proxySecret: SECRET,
    vars: {
      PUBLIC_BASE_URL: BASE,
      PUBLIC_HOST: 'edge.test:8443',
      EDGE_LISTEN: `127.0.0.1:${P.https}`,
      EDGE_HTTP_LISTEN: `127.0.0.1:${P.http}`,
      EDGE_STATUS_LISTEN: `127.0.0.1:${P.status}`,
      TLS_CERT: cert,
      TLS_KEY: tlsKey,
      VERIFIER_UPSTREAM: `127.0.0.1:${P.verifier}`,
      MCP_RO_UPSTREAM: `127.0.0.1:${P.ro}`,
      MCP_RW_UPSTREAM: `127.0.0.1:${P.rw}`,
      KEYCLOAK_UPSTREAM: `127.0.0.1:${P.kc}`,
    },
  });
});

afterAll(async () => {
  await nginx?.stop();
  await verifier?.stop();
  await Promise.all([ro?.close(), rw?.close(), kc?.close(), jwks?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const needNginx = (ctx: { skip: (note?: string) => void }) => {
  if (!haveNginx) ctx.skip(`${NGINX_BIN} is not installed (bash scripts/provision.sh)`);
};

describe('rendered configuration', () => {
  it('keeps nginx variables, leaves no template variable behind, and keeps the proxy secret in a 0600 include only', (ctx) => {
    needNginx(ctx);
    const confD = join(dir, 'nginx/conf.d');
    const conf = readFileSync(join(confD, 'edge.conf'), 'utf8');
    expect(conf).toContain('$request_uri');
    expect(conf).toContain('$binary_remote_addr');
    expect(conf).not.toMatch(/\$\{[A-Z_]+\}/);
    const all = [conf, ...readdirSync(join(confD, 'snippets')).map((f) => readFileSync(join(confD, 'snippets', f), 'utf8'))].join('\n');
    expect(all).not.toContain(SECRET);
    expect(statSync(join(dir, 'nginx/secrets/proxy_secret.conf')).mode & 0o777).toBe(0o600);
  });
});

describe('authentication at the edge', () => {
  it('answers a request without a token with 401 and the MCP challenge, and the upstream sees nothing', async (ctx) => {
    needNginx(ctx);
    const before = ro.seen.length;
    const r = await mcpPost('/mcp');
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe(`Bearer resource_metadata="${BASE}/.well-known/oauth-protected-resource/mcp", scope="mcp:read"`);
    expect(r.headers['content-type']).toContain('application/json');
    expect(ro.seen.length).toBe(before);
  });

  it('refuses a foreign Host (DNS rebinding) and a foreign Origin with 403 naming the reason, before any token check', async (ctx) => {
    needNginx(ctx);
    const before = [ro.seen.length, rw.seen.length];
    const token = await readToken();
    const host = await mcpPost('/mcp', token, { host: 'evil.example' });
    expect(host.status).toBe(403);
    expect(JSON.parse(host.body)).toEqual({ error: 'host_not_allowed' });
    for (const path of ['/mcp', '/mcp/admin']) {
      const origin = await mcpPost(path, token, { origin: 'https://evil.example' });
      expect(origin.status).toBe(403);
      expect(JSON.parse(origin.body)).toEqual({ error: 'origin_not_allowed' });
      // Not an OAuth refusal: no challenge that would send the client to get another token.
      expect(origin.headers['www-authenticate']).toBeUndefined();
      expect(origin.headers['strict-transport-security']).toMatch(/max-age=/);
    }
    expect([ro.seen.length, rw.seen.length]).toEqual(before);
  });

  it('answers insufficient scope with 403 and keeps the WWW-Authenticate challenge', async (ctx) => {
    needNginx(ctx);
    const r = await mcpPost('/mcp/admin', await readerWithBothAudiences());
    expect(r.status).toBe(403);
    expect(r.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(r.headers['www-authenticate']).toContain('scope="mcp:write"');
    expect(r.headers['www-authenticate']).toContain(`resource_metadata="${BASE}/.well-known/oauth-protected-resource/mcp/admin"`);
    expect(r.headers['www-authenticate']).not.toContain(', Bearer'); // exactly one challenge
    expect(JSON.parse(r.body)).toEqual({ error: 'insufficient_scope' });
  });

  it.for([
    '/mcp?access_token=SECRET',
    '/mcp/admin?x=1&client_secret=SECRET',
    '/mcp?Refresh%5FToken=SECRET',
    '/realms/mcp/protocol/openid-connect/auth?client_id=mcp-agent&client_secret=SECRET',
    '/nope?password=SECRET',
  ])('refuses a credential in the query string (%s) with 400 at the edge, before the verifier or an upstream sees it', async (path, ctx) => {
    needNginx(ctx);
    const token = await readToken();
    const seen = [ro.seen.length, rw.seen.length, kc.seen.length];
    const audit = readFileSync(join(dir, 'verifier.audit.jsonl'), 'utf8');
    const r = await mcpPost(path.replace('SECRET', token), token);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toEqual({ error: 'credential_in_query' });
    expect([ro.seen.length, rw.seen.length, kc.seen.length]).toEqual(seen);
    expect(readFileSync(join(dir, 'verifier.audit.jsonl'), 'utf8')).toBe(audit);
  });

  it('passes a query string that names no credential on to the usual checks', async (ctx) => {
    needNginx(ctx);
    const r = await edge(t, { path: '/realms/mcp/login-actions/authenticate?session_code=x&tokenizer=y' });
    expect(r.status).toBe(200);
  });

  it('takes the route from the location, not from a client X-MCP-Route header', async (ctx) => {
    needNginx(ctx);
    const r = await mcpPost('/mcp/admin', await readerWithBothAudiences(), { 'x-mcp-route': 'ro' });
    expect(r.status).toBe(403);
  });
});

describe('what reaches the MCP servers', () => {
  it('forwards an accepted request with the verifier identity, the proxy secret and no Authorization', async (ctx) => {
    needNginx(ctx);
    const forged = {
      'x-auth-subject': 'admin',
      'x-auth-scopes': 'mcp:write',
      'x-auth-username': 'root',
      'x-auth-client-id': 'evil',
      'x-mcp-proxy-auth': 'guess',
      'x-forwarded-for': '10.9.9.9',
      'x-request-id': 'forged-request-id',
      'x-auth-roles': 'mcp-writer',
      'x-auth-principal-type': 'machine',
    };
    const r = await mcpPost('/mcp', await readToken(), forged);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ upstream: 'mcp-ro', path: '/mcp' });
    const got = ro.seen.at(-1)!;
    expect(got.method).toBe('POST');
    expect(got.body).toBe('{"jsonrpc":"2.0","id":1,"method":"ping"}');
    expect(got.headers.authorization).toBeUndefined();
    expect(got.headers['x-auth-subject']).toBe('user-analyst-0001');
    expect(got.headers['x-auth-username']).toBe('analyst');
    expect(got.headers['x-auth-client-id']).toBe('mcp-agent');
    expect(got.headers['x-auth-scopes']).toBe('openid mcp:read');
    expect(got.headers['x-auth-token-id']).toBe('jti-0001');
    // The policy's principal (server/src/policy/*): realm roles and the token's kind, from the verifier only.
    expect(got.headers['x-auth-roles']).toBe('mcp-reader');
    expect(got.headers['x-auth-principal-type']).toBe('person');
    expect(got.headers['x-mcp-proxy-auth']).toBe(SECRET);
    expect(got.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(got.headers['x-forwarded-proto']).toBe('https');
    expect(got.headers.host).toBe('edge.test:8443');
    expect(got.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(r.headers['x-powered-by']).toBeUndefined();
    // One id joins the tiers: nginx's $request_id reaches the verifier and the upstream, and names the access-log line.
    const id = got.headers['x-request-id'] as string;
    await waitFor('access log line', async () => readFileSync(join(dir, 'nginx/logs/access.log'), 'utf8').includes(`"request_id":"${id}"`), {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    const decisions = readFileSync(join(dir, 'verifier.audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { requestId?: string });
    expect(decisions.filter((d) => d.requestId === id)).toHaveLength(1);
  });

  it('drops a forged identity header even when the verifier has no value for it', async (ctx) => {
    needNginx(ctx);
    const token = await sign(key, claims({ iat: now(), exp: now() + 300, preferred_username: null, azp: null }));
    const r = await mcpPost('/mcp', token, { 'x-auth-username': 'root', 'x-auth-client-id': 'evil' });
    expect(r.status).toBe(200);
    const got = ro.seen.at(-1)!;
    expect(got.headers['x-auth-username']).toBeUndefined();
    expect(got.headers['x-auth-client-id']).toBeUndefined();
    expect(got.headers['x-auth-subject']).toBe('user-analyst-0001');
  });

  it('routes /mcp/admin to the read-write server only for a writer', async (ctx) => {
    needNginx(ctx);
    const before = ro.seen.length;
    const r = await mcpPost('/mcp/admin', await writeToken());
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ upstream: 'mcp-rw', path: '/mcp' });
    expect(rw.seen.at(-1)!.headers['x-auth-username']).toBe('operator');
    expect(ro.seen.length).toBe(before);
  });

  it('refuses a body over 1 MiB before it reaches the upstream', async (ctx) => {
    needNginx(ctx);
    const before = ro.seen.length;
    const r = await edge(t, {
      method: 'POST',
      path: '/mcp',
      body: Buffer.alloc(1024 * 1024 + 10, 0x20),
      headers: { authorization: `Bearer ${await readToken()}`, 'content-type': 'application/json' },
    });
    expect(r.status).toBe(413);
    expect(ro.seen.length).toBe(before);
  });

  it('streams SSE events through unbuffered: the first event arrives while the stream is still open', async (ctx) => {
    needNginx(ctx);
    const token = await readToken();
    const events: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: t.port,
          servername: t.servername,
          ca: t.ca,
          path: '/mcp',
          method: 'GET',
          agent: false,
          headers: { host: 'edge.test:8443', accept: 'text/event-stream', authorization: `Bearer ${token}` },
        },
        (res) => {
          expect(res.statusCode).toBe(200);
          expect(res.headers['content-type']).toContain('text/event-stream');
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            events.push(chunk);
            // Only after the client holds the first event may the upstream finish: buffering would deadlock here.
            if (events.length === 1) ro.releaseStream();
          });
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    await done;
    expect(events[0]).toContain('"first":true');
    expect(events.join('')).toContain('"last":true');
  });
});

describe('exposed paths', () => {
  it.for([
    '/admin/',
    '/admin/master/console/',
    '/realms/master/protocol/openid-connect/token',
    '/realms/master/',
    '/mcp/../admin',
    '//admin',
    '/mcp/%2e%2e/admin',
    '/realms/mcp/../../admin',
    '/realms/mcp/protocol/openid-connect/%2e%2e/%2e%2e/%2e%2e/master/x',
    '/mcp/admin/x',
    '/mcpx',
    '/mcp/',
    '/MCP',
    '/_verify',
    '/verify',
    '/healthz',
    '/realms/mcp/clients-registrations/openid-connect/some-client-id',
    '/realms/mcp/account',
    '/metrics',
    '/health/ready',
    '/.well-known/openid-configuration/realms/master',
    '/realms/mcp/protocol/openid-connect/../../../../admin/realms',
    '/realms/mcp/.well-known/uma2-configuration',
  ])('answers %s with 404 (or 400) and never reaches Keycloak or an MCP server', async (path, ctx) => {
    needNginx(ctx);
    const seen = [ro.seen.length, rw.seen.length, kc.seen.length];
    const r = await edge(t, { path, headers: { authorization: `Bearer ${await writeToken()}` } });
    expect([400, 404]).toContain(r.status);
    expect([ro.seen.length, rw.seen.length, kc.seen.length]).toEqual(seen);
  });

  it.for([
    ['/realms/mcp', '/realms/mcp'],
    ['/realms/mcp/protocol/openid-connect/certs', '/realms/mcp/protocol/openid-connect/certs'],
    ['/realms/mcp/login-actions/authenticate?session_code=x', '/realms/mcp/login-actions/authenticate?session_code=x'],
    ['/resources/abc/login/theme.css', '/resources/abc/login/theme.css'],
  ] as const)('passes the Keycloak login path %s through with the public host and https', async ([path, upstreamPath], ctx) => {
    needNginx(ctx);
    const r = await edge(t, { path });
    expect(r.status).toBe(200);
    const got = kc.seen.at(-1)!;
    expect(got.url).toBe(upstreamPath);
    expect(got.headers.host).toBe('edge.test:8443');
    expect(got.headers['x-forwarded-proto']).toBe('https');
  });

  it.for([
    ['/.well-known/oauth-protected-resource', RO, 'mcp:read'],
    ['/.well-known/oauth-protected-resource/mcp', RO, 'mcp:read'],
    ['/.well-known/oauth-protected-resource/mcp/admin', RW, 'mcp:write'],
  ] as const)('serves RFC 9728 metadata at %s', async ([path, resource, scope], ctx) => {
    needNginx(ctx);
    const r = await edge(t, { path });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({
      resource,
      authorization_servers: [`${BASE}/realms/mcp`],
      scopes_supported: [scope],
      bearer_methods_supported: ['header'],
      resource_name: expect.any(String),
    });
  });
});

describe('authorization-server metadata and registration (issue #12)', () => {
  it.for([
    '/.well-known/oauth-authorization-server/realms/mcp',
    '/.well-known/openid-configuration/realms/mcp',
    '/realms/mcp/.well-known/openid-configuration',
    '/realms/mcp/.well-known/oauth-authorization-server',
  ])('serves its own AS metadata at %s without asking Keycloak: registration advertised, no CIBA, no password/implicit', async (path, ctx) => {
    needNginx(ctx);
    const seen = kc.seen.length;
    const r = await edge(t, { path });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const doc = JSON.parse(r.body) as Record<string, unknown>;
    expect(doc.issuer).toBe(`${BASE}/realms/mcp`);
    expect(doc.registration_endpoint).toBe(`${BASE}/realms/mcp/clients-registrations/openid-connect`);
    expect(doc).not.toHaveProperty('backchannel_authentication_endpoint');
    expect(doc.grant_types_supported).not.toContain('password');
    expect(doc.grant_types_supported).not.toContain('implicit');
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
    expect(kc.seen.length).toBe(seen);
  });

  it('passes a registration POST to Keycloak and refuses other methods with 405', async (ctx) => {
    needNginx(ctx);
    const path = '/realms/mcp/clients-registrations/openid-connect';
    const get = await edge(t, { path });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const post = await edge(t, { path, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"redirect_uris":["http://127.0.0.1/cb"]}' });
    expect(post.status).toBe(200);
    expect(kc.seen.at(-1)!.url).toBe(path);
  });
});

describe('transport security', () => {
  it('refuses TLS 1.1', async (ctx) => {
    needNginx(ctx);
    const r = await handshake(t, 'TLSv1', 'TLSv1.1');
    // The server's alert, not a client that could not offer TLS 1.1 at all.
    expect(r).toEqual({ ok: false, code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
  });

  it.for(['TLSv1.2', 'TLSv1.3'] as const)('accepts %s', async (v, ctx) => {
    needNginx(ctx);
    expect(await handshake(t, v, v)).toEqual({ ok: true, protocol: v });
  });

  it('sends HSTS and hides the nginx version', async (ctx) => {
    needNginx(ctx);
    for (const r of [await edge(t, { path: '/nope' }), await mcpPost('/mcp')]) {
      expect(r.headers['strict-transport-security']).toMatch(/max-age=\d{8}/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers.server).toBe('nginx');
    }
  });

  it('redirects plain HTTP to the https origin and serves nothing over it', async (ctx) => {
    needNginx(ctx);
    const r = await plain(P.http, '/mcp?x=1');
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe(`${BASE}/mcp?x=1`);
  });

  it("serves nginx's counters at /stub_status on the templated loopback listener, and nothing else there", async (ctx) => {
    needNginx(ctx);
    expect((await plain(P.status, '/stub_status')).status).toBe(200);
    expect((await plain(P.status, '/mcp')).status).toBe(404);
  });
});

describe('logs', () => {
  it('never write a query-string credential, also for requests that fail early (bad header, body too large, plain http)', async (ctx) => {
    needNginx(ctx);
    const token = await readToken();
    const secret = `s3cret-${Date.now()}`;
    await mcpPost(`/mcp?access_token=${token}`, token);
    await mcpPost('/mcp', token);
    // Each of these used to put the request line into the error log: an unset $auth_subject logged at
    // warn for a request that never reached the rewrite phase (duplicate Host), the 413 check at error.
    const dupHost = await rawTls(t, `GET /mcp?client_secret=${secret} HTTP/1.1\r\nHost: edge.test:8443\r\nHost: edge.test:8443\r\n\r\n`);
    expect(statusOf(await dupHost.answer)).toBe(400);
    const tooLarge = await rawTls(t, `POST /mcp?access_token=${secret} HTTP/1.1\r\nHost: edge.test:8443\r\nContent-Length: 5000000\r\n\r\n`);
    expect(statusOf(await tooLarge.answer)).toBe(400);
    tooLarge.close();
    expect((await plain(P.http, `/mcp?access_token=${secret}`)).status).toBe(400);
    const [, payload, signature] = token.split('.');
    const audit = join(dir, 'verifier.audit.jsonl');
    // nginx logs once the response is sent.
    await waitFor('access log', async () => readFileSync(join(dir, 'nginx/logs/access.log'), 'utf8').split('"status":400').length > 3, {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    for (const file of [audit, join(dir, 'nginx/logs/access.log'), join(dir, 'nginx/logs/error.log'), join(dir, 'nginx.log')]) {
      const text = readFileSync(file, 'utf8');
      for (const s of [payload!, signature!, secret, 'access_token', 'client_secret']) expect(text, file).not.toContain(s);
    }
  });

  it('keeps the error and access logs readable by their owner only', (ctx) => {
    needNginx(ctx);
    for (const f of ['error.log', 'access.log']) expect(statSync(join(dir, 'nginx/logs', f)).mode & 0o777, f).toBe(0o600);
  });
});

describe('slow clients', () => {
  // Waits for the edge to act (≈10 s), bounded at 30 s: nginx's default would hold both for 60 s.
  it('drops a connection whose headers or body stop arriving after 10 s, not after the 60 s default', { timeout: 45_000 }, async (ctx) => {
    needNginx(ctx);
    const token = await readToken();
    const stalledHead = await rawTls(t, 'POST /mcp HTTP/1.1\r\nHost: edge.test:8443\r\nContent-Ty');
    const stalledBody = await rawTls(
      t,
      `POST /mcp HTTP/1.1\r\nHost: edge.test:8443\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc"`,
    );
    const before = ro.seen.length;
    try {
      await waitFor('the edge to drop both', async () => stalledHead.answered() && stalledBody.answered(), { timeoutMs: 30_000, intervalMs: 250 });
      // nginx closes both without an answer (408 is logged, not sent), and the upstream never sees the request.
      expect(await stalledHead.answer).toBe('');
      expect(await stalledBody.answer).toBe('');
      expect(ro.seen.length).toBe(before);
    } finally {
      stalledHead.close();
      stalledBody.close();
    }
  });

  const LIMIT = 128; // limit_conn edge_conn_per_ip in edge.conf.template
  it('refuses a flood of half-sent requests from one address with 429 too_many_connections beyond the per-IP limit, while another address is served', async (ctx) => {
    needNginx(ctx);
    const token = await readToken();
    // Headers complete, body promised but not sent: the edge holds each one until client_body_timeout.
    const head = `POST /mcp HTTP/1.1\r\nHost: edge.test:8443\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc"`;
    const flood = await Promise.all(Array.from({ length: LIMIT + 12 }, () => rawTls(t, head, '127.0.0.1')));
    try {
      await waitFor('refusals', async () => flood.filter((f) => f.answered()).length >= 12, { timeoutMs: 10_000, intervalMs: 50 });
      const answered = await Promise.all(flood.filter((f) => f.answered()).map((f) => f.answer));
      expect(answered).toHaveLength(12);
      for (const a of answered) {
        expect(statusOf(a)).toBe(429);
        expect(a).toMatch(/\r\nretry-after: 1\r\n/i);
        expect(a.slice(a.indexOf('\r\n\r\n') + 4)).toBe('{"error":"too_many_connections"}\n');
      }
      const before = ro.seen.length;
      // The flooding address is refused even a normal request; a caller from another address is served.
      expect((await mcpPost('/mcp', token, {})).status).toBe(429);
      const other = await edge(t, {
        method: 'POST',
        path: '/mcp',
        localAddress: '127.0.0.2',
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      expect(other.status).toBe(200);
      expect(ro.seen.length).toBe(before + 1);
    } finally {
      for (const f of flood) f.close();
    }
  });
});

describe('failure of the verifier', () => {
  // Last in the file: it stops the verifier.
  it('fails closed: with the verifier down the edge answers 5xx and nothing reaches the upstream', async (ctx) => {
    needNginx(ctx);
    const token = await readToken();
    await verifier!.stop();
    const before = ro.seen.length;
    const r = await mcpPost('/mcp', token);
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(ro.seen.length).toBe(before);
  });
});

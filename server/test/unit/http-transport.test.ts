import { afterEach, describe, expect, it } from 'vitest';
import { INIT, JSON_HEADERS, PROXY_SECRET, identityHeaders, raw, startHttp } from './helpers/http.ts';

type Started = Awaited<ReturnType<typeof startHttp>>;
let srv: Started | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

const post = (s: Started, headers: Record<string, string>, body: string | Buffer = INIT()) => raw(s.url, { headers: { ...JSON_HEADERS, ...headers }, body });

describe('HTTP: health', () => {
  it('answers /healthz with 200 {"status":"ok"} and nothing else', async () => {
    srv = await startHttp();
    const r = await raw(srv.url.replace('/mcp', '/healthz'), { method: 'GET' });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ status: 'ok' });
  });

  it('answers unknown paths with 404', async () => {
    srv = await startHttp();
    expect((await raw(srv.url.replace('/mcp', '/admin'), { method: 'GET' })).status).toBe(404);
  });
});

describe('HTTP: DNS rebinding protection', () => {
  it('refuses a Host header that is not the bind address or an allowed host with 403 and a JSON-RPC error', async () => {
    srv = await startHttp();
    const r = await post(srv, { ...identityHeaders(), host: 'evil.example:80' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'HOST_NOT_ALLOWED' } } });
    expect(srv.audit.records.at(-1)).toMatchObject({ event: 'http_refused', errorCode: 'HOST_NOT_ALLOWED', httpStatus: 403 });
  });

  it('accepts a configured public host such as the edge host', async () => {
    srv = await startHttp({ httpAllowedHosts: ['localhost:8443'] });
    const r = await post(srv, { ...identityHeaders(), host: 'localhost:8443' });
    expect(r.status).toBe(200);
  });

  it('refuses a browser Origin that is not allowlisted, accepts an allowlisted one', async () => {
    srv = await startHttp({ httpAllowedOrigins: ['https://localhost:8443'] });
    expect((await post(srv, { ...identityHeaders(), origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(srv, { ...identityHeaders(), origin: 'https://localhost:8443' })).status).toBe(200);
  });
});

describe('HTTP: proxy identity', () => {
  it('refuses a request without the proxy secret with 401 and audits it', async () => {
    srv = await startHttp();
    const r = await post(srv, { 'x-auth-subject': 'forged' });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body).error.data.code).toBe('PROXY_AUTH_REQUIRED');
    expect(srv.audit.records).toEqual([expect.objectContaining({ event: 'http_refused', errorCode: 'PROXY_AUTH_REQUIRED', httpStatus: 401, subject: null })]);
  });

  it('refuses a wrong proxy secret, including one that is a prefix of the right one', async () => {
    srv = await startHttp();
    expect((await post(srv, { ...identityHeaders(), 'x-mcp-proxy-auth': 'wrong' })).status).toBe(401);
    expect((await post(srv, { ...identityHeaders(), 'x-mcp-proxy-auth': PROXY_SECRET.slice(0, -1) })).status).toBe(401);
  });

  it('refuses any request that still carries an Authorization header, and never logs the token', async () => {
    srv = await startHttp();
    const r = await post(srv, { ...identityHeaders(), authorization: 'Bearer eyJsecret-token' });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.data.code).toBe('TOKEN_NOT_ALLOWED');
    expect(JSON.stringify(srv.audit.records)).not.toContain('eyJsecret-token');
    expect(JSON.stringify(srv.audit.records)).not.toContain(PROXY_SECRET);
  });
});

describe('HTTP: request hygiene', () => {
  it('answers a body over httpBodyLimit with 413', async () => {
    srv = await startHttp({ httpBodyLimit: 2048 });
    const r = await post(srv, identityHeaders(), JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(5000) } }));
    expect(r.status).toBe(413);
    expect(srv.audit.records.at(-1)).toMatchObject({ errorCode: 'BODY_TOO_LARGE', subject: 'user-1' });
  });

  it('answers malformed JSON with a JSON-RPC parse error and keeps serving', async () => {
    srv = await startHttp();
    const r = await post(srv, identityHeaders(), '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe(-32700);
    const junk = await post(srv, identityHeaders(), '[1, "x", null]');
    expect(junk.status).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(junk.body)).toHaveProperty('error');
    expect((await post(srv, identityHeaders())).status).toBe(200);
  });
});

describe('HTTP: sessions', () => {
  async function initSession(s: Started, subject: string): Promise<string> {
    const r = await post(s, identityHeaders(subject));
    expect(r.status).toBe(200);
    const id = r.headers['mcp-session-id'];
    expect(typeof id).toBe('string');
    return id as string;
  }
  const list = (s: Started, sessionId: string, subject: string) =>
    post(
      s,
      { ...identityHeaders(subject), 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    );

  it('binds a session to the subject that created it: another subject gets 404', async () => {
    srv = await startHttp();
    const id = await initSession(srv, 'alice');
    expect((await list(srv, id, 'alice')).status).toBe(200);
    const stolen = await list(srv, id, 'mallory');
    expect(stolen.status).toBe(404);
    expect(srv.audit.records.at(-1)).toMatchObject({ errorCode: 'SESSION_NOT_FOUND', subject: 'mallory' });
  });

  it('refuses new sessions beyond maxSessions with 503', async () => {
    srv = await startHttp({ maxSessions: 2 });
    await initSession(srv, 'a');
    await initSession(srv, 'b');
    const r = await post(srv, identityHeaders('c'));
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).error.data.code).toBe('SESSION_LIMIT');
  });

  it('answers a request with an unknown session id with 404', async () => {
    srv = await startHttp();
    expect((await list(srv, 'no-such-session', 'alice')).status).toBe(404);
  });
});

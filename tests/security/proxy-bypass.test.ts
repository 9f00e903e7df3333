/**
 * Proxy-bypass refusal: everything an attacker tries to get around the edge — from the outside
 * network, with forged headers, with path tricks, with a stolen session, or by talking to the MCP
 * server directly — and what they observe.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { curlFromClient, probeFromClient, rawRequest } from '../harness/http.ts';
import { serviceAgentToken, userToken } from '../harness/tokens.ts';
import { connectMcp, type McpSession } from '../harness/mcp.ts';
import { recordProof } from '../harness/proof.ts';
import { run } from '../../scripts/stack/process.ts';
import { currentManifest } from '../harness/manifest.ts';
import { readAudit } from '../harness/audit.ts';

const m = inject('manifest');
const edgePath = (url: string) => new URL(url).pathname;
const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'attacker', version: '1' } },
});
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

describe('from the outside network (the client namespace)', () => {
  it('reaches the edge, which answers 401 with the MCP challenge', async (ctx) => {
    if (!m.clientNetns) return ctx.skip('no network namespaces (not root): loopback isolation cannot separate the outside from the tiers');
    const status = await curlFromClient(m, `${m.clientEdgeUrl}/mcp`, ['-X', 'POST', '-H', 'content-type: application/json', '--data', initialize]);
    expect(status).toBe(401);
  });

  it('cannot open a connection to any internal tier: MCP servers, verifier, Keycloak, database', async (ctx) => {
    if (!m.clientNetns) return ctx.skip('no network namespaces (not root): loopback isolation cannot separate the outside from the tiers');
    const open: string[] = [];
    for (const t of m.internal) if ((await probeFromClient(m, t.host, t.port)) === 'open') open.push(`${t.name} ${t.host}:${t.port}`);
    expect(open).toEqual([]);
    recordProof(ctx, {
      attack: `connect from outside to ${m.internal.length} internal ports`,
      expected: 'none answers',
      observed: open.length ? open.join(', ') : 'none answers',
    });
  });

  it('cannot route through the edge to the database even with its own route', async (ctx) => {
    if (!m.clientNetns) return ctx.skip('no network namespaces (not root): loopback isolation cannot separate the outside from the tiers');
    const dbTier = m.internal.find((t) => t.name === 'database-from-edge');
    if (!dbTier) return ctx.skip('the manifest names no edge-side database address');
    await run('ip', ['route', 'replace', `${dbTier.host}/32`, 'via', m.edgeAddressForClient], { netns: m.clientNetns }).catch(() => undefined);
    try {
      expect(await probeFromClient(m, dbTier.host, dbTier.port)).toBe('closed');
    } finally {
      await run('ip', ['route', 'del', `${dbTier.host}/32`], { netns: m.clientNetns }).catch(() => undefined);
    }
  });
});

describe('at the edge', () => {
  it('refuses TLS below 1.2', async (ctx) => {
    await expect(rawRequest(m, { path: '/mcp', tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' } })).rejects.toThrow();
    const ok = await rawRequest(m, { path: '/.well-known/oauth-protected-resource/mcp', tls: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } });
    expect(ok.status).toBe(200);
    recordProof(ctx, { attack: 'TLS 1.0/1.1 handshake with the edge', expected: 'handshake refused', observed: 'refused; TLS 1.2 accepted' });
  });

  it.each([
    '/admin/',
    '/admin/master/console/',
    '/realms/master/protocol/openid-connect/token',
    '/realms/mcp/../../admin/',
    '/realms/mcp/%2e%2e/%2e%2e/admin/',
    '//admin/',
    '/mcp/../admin/',
    '/mcp/admin/../../admin/',
    '/mcpx',
    '/mcp/admin/x',
    '/health/ready',
    '/metrics',
    '/',
    '/verify',
    '/_verify',
    '/healthz',
  ])('answers 404 for the unlisted path %s', async (path) => {
    const r = await rawRequest(m, { path });
    expect(r.status).toBe(404);
  });

  it('refuses a Host that is not the public one (DNS rebinding)', async (ctx) => {
    const t = await serviceAgentToken(m);
    const r = await rawRequest(m, {
      method: 'POST',
      path: '/mcp',
      headers: { ...mcpHeaders, host: 'evil.example', authorization: `Bearer ${t.access_token}` },
      body: initialize,
    });
    expect(r.status).toBe(403);
    expect(r.body).toContain('host_not_allowed');
    const o = await rawRequest(m, {
      method: 'POST',
      path: '/mcp',
      headers: { ...mcpHeaders, origin: 'https://evil.example', authorization: `Bearer ${t.access_token}` },
      body: initialize,
    });
    expect(o.status).toBe(403);
    expect(o.body).toContain('origin_not_allowed');
    recordProof(ctx, { attack: 'Host: evil.example / Origin: https://evil.example', expected: 'refused', observed: `${r.status} / ${o.status}` });
  });

  it('overwrites identity headers forged by the client and never passes the token on', async (ctx) => {
    const t = await serviceAgentToken(m);
    const forged = {
      'x-auth-subject': 'forged-admin',
      'x-auth-username': 'operator',
      'x-auth-client-id': 'forged-agent',
      'x-auth-scopes': 'mcp:read mcp:write',
      'x-mcp-proxy-auth': 'guess',
    };
    const mcp = await connectMcp(m, m.resources.readOnly, t.access_token, forged);
    try {
      await mcp.client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
    } finally {
      await mcp.close();
    }
    const lines = await readAudit(m.auditLog.readOnly);
    const mine = lines.filter((l) => l.tool === 'list-collections').at(-1);
    expect(mine?.agent).toBe(m.clients.service.id);
    expect(mine?.subject).not.toBe('forged-admin');
    expect(mine?.username).not.toBe('operator');
    const raw = JSON.stringify(lines);
    expect(raw).not.toContain(t.access_token);
    expect(raw).not.toContain(t.access_token.split('.')[2]);
    recordProof(ctx, { attack: 'client sends X-Auth-* and a guessed proxy secret', expected: 'edge identity wins', observed: `audited agent=${mine?.agent}` });
  });
});

// Under compose the MCP servers listen on 127.0.0.1 inside the proxy container: the host cannot knock.
const NO_DIRECT = "compose: the MCP servers' loopback is inside the proxy container; runs natively";

describe('the MCP server without the proxy', () => {
  const direct = (url: string, headers: string[]) =>
    run(
      'curl',
      [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--max-time',
        '10',
        '-X',
        'POST',
        '-H',
        'content-type: application/json',
        '-H',
        'accept: application/json, text/event-stream',
        ...headers.flatMap((h) => ['-H', h]),
        '--data',
        initialize,
        url,
      ],
      { netns: m.direct.netns },
    ).then(Number);
  /** The real proxy credential: these attacks hold it, so only the check under test can refuse them. */
  const proxyCredential = async () => `x-mcp-proxy-auth: ${(await readFile(m.proxySecretFile, 'utf8')).trim()}`;

  it('refuses a direct request without the proxy credential and audits it', async (ctx) => {
    if (!m.direct.netns && m.runtime === 'compose') return ctx.skip(NO_DIRECT);
    const before = (await readAudit(m.auditLog.readOnly)).length;
    expect(await direct(m.direct.readOnly, ['x-auth-subject: forged', 'x-auth-scopes: mcp:read mcp:write'])).toBe(401);
    const after = await readAudit(m.auditLog.readOnly);
    expect(after.length).toBeGreaterThan(before);
    expect(after.at(-1)?.outcome).toBe('refused');
    recordProof(ctx, {
      attack: 'POST to the MCP server directly with forged identity',
      expected: '401 + audit record',
      observed: `401, audit outcome=${after.at(-1)?.outcome}`,
    });
  });

  it('refuses a request that still carries an Authorization header, even with the proxy credential', async (ctx) => {
    if (!m.direct.netns && m.runtime === 'compose') return ctx.skip(NO_DIRECT);
    const status = await direct(m.direct.readOnly, [await proxyCredential(), 'x-auth-subject: s', 'x-auth-scopes: mcp:read', 'authorization: Bearer leaked']);
    expect(status).toBe(400); // TOKEN_NOT_ALLOWED: a token must never reach the MCP tier
  });

  it('refuses a Host header that is not allowlisted (DNS rebinding at the MCP tier)', async (ctx) => {
    if (!m.direct.netns && m.runtime === 'compose') return ctx.skip(NO_DIRECT);
    expect(await direct(m.direct.readOnly, [await proxyCredential(), 'host: evil.example'])).toBe(403);
  });
});

describe('sessions', () => {
  let a: McpSession;
  beforeAll(async () => {
    const t = await serviceAgentToken(m);
    a = await connectMcp(m, m.resources.readOnly, t.access_token);
  });
  afterAll(async () => a?.close());

  it('makes a session created by one subject useless to another (404)', async (ctx) => {
    const sessionId = a.transport.sessionId;
    if (!sessionId) return ctx.skip('the server negotiated a stateless protocol version: there is no session to steal');
    const other = await userToken(m, 'analyst', 'mcp:read');
    const r = await rawRequest(m, {
      method: 'POST',
      path: edgePath(m.resources.readOnly),
      headers: { ...mcpHeaders, authorization: `Bearer ${other.access_token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(r.status).toBe(404);
    recordProof(ctx, { attack: "analyst replays the service agent's session id", expected: '404', observed: String(r.status) });
  });
});

describe('the verifier', () => {
  it('being down stops every request: the edge fails closed and nothing reaches the MCP server', async (ctx) => {
    const pid = (await currentManifest()).pids?.verifier; // today's: a fault suite may have restarted it
    if (!pid) return ctx.skip('the manifest records no verifier pid (compose runtime): covered by the live nginx test');
    const t = await serviceAgentToken(m);
    const before = (await readAudit(m.auditLog.readOnly)).length;
    // SIGSTOP, not SIGKILL: the verifier hangs like an overloaded or partitioned service, and resumes after.
    process.kill(pid, 'SIGSTOP');
    let status = 0;
    try {
      const r = await rawRequest(m, {
        method: 'POST',
        path: edgePath(m.resources.readOnly),
        headers: { ...mcpHeaders, authorization: `Bearer ${t.access_token}` },
        body: initialize,
      });
      status = r.status;
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(status).toBeGreaterThanOrEqual(500);
    expect((await readAudit(m.auditLog.readOnly)).length).toBe(before);
    recordProof(ctx, { attack: 'valid token while the verifier hangs', expected: '5xx, nothing upstream', observed: String(status) });
  });
});

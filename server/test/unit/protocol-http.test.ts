/**
 * Protocol features over the real Streamable HTTP transport (issue #12): SEP-2243 standard headers on
 * 2026-07-28, 2025-03-26 clients and concurrent POSTs on one session, and server log notifications on the
 * standalone GET stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { identityHeaders, INIT, JSON_HEADERS, raw, startHttp } from './helpers/http.ts';

let srv: Awaited<ReturnType<typeof startHttp>>;
beforeAll(async () => {
  srv = await startHttp({ readOnly: true });
});
afterAll(async () => srv.close());

interface Sent {
  headers: Record<string, string>;
  body: string;
}

/** What the official client sends for one 2026-07-28 request, captured so it can be replayed altered. */
async function capture2026(method: 'tools/call' | 'resources/read' | 'prompts/get'): Promise<Sent> {
  const sent: Sent[] = [];
  const client = new Client({ name: 'sep-2243', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  const transport = new StreamableHTTPClientTransport(new URL(srv.url), {
    requestInit: { headers: identityHeaders('sep-2243') },
    fetch: async (url, init) => {
      if (typeof init?.body === 'string') sent.push({ headers: Object.fromEntries(new Headers(init.headers).entries()), body: init.body });
      return fetch(url, init);
    },
  });
  await client.connect(transport);
  if (method === 'tools/call') await client.callTool({ name: 'list-collections', arguments: { database: 'admin' } });
  if (method === 'resources/read') await client.readResource({ uri: 'config://effective' });
  if (method === 'prompts/get') await client.getPrompt({ name: 'server-overview' });
  await client.close();
  const found = sent.find((s) => (JSON.parse(s.body) as { method?: string }).method === method);
  if (!found) throw new Error(`no ${method} captured`);
  return found;
}

const replay = (s: Sent, headers: Record<string, string | undefined>) => {
  const h: Record<string, string> = { ...s.headers };
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) delete h[k];
    else h[k] = v;
  }
  return raw(srv.url, { headers: h, body: s.body });
};

describe('SEP-2243 standard headers on 2026-07-28 requests', () => {
  it.each(['tools/call', 'resources/read', 'prompts/get'] as const)(
    'the official client sends Mcp-Method and Mcp-Name for %s and is served',
    async (method) => {
      const s = await capture2026(method);
      expect(s.headers['mcp-method']).toBe(method);
      expect(s.headers['mcp-name']).toBeTruthy();
      const res = await replay(s, {});
      expect(res.status).toBe(200);
    },
  );

  it('rejects a tools/call whose Mcp-Name names another tool than the body with HTTP 400 and -32020, audited, no tool run', async () => {
    const s = await capture2026('tools/call');
    const before = srv.audit.records.length;
    const res = await replay(s, { 'mcp-name': 'find' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: -32020 } });
    // The refused call still has its one record, and it is not an ok list-collections.
    const records = srv.audit.records.slice(before);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ event: 'tool_call', outcome: 'refused' });
  });

  it('rejects a tools/call without Mcp-Name, and any request whose Mcp-Method disagrees with the body, with -32020', async () => {
    const s = await capture2026('tools/call');
    for (const headers of [{ 'mcp-name': undefined }, { 'mcp-method': 'tools/list' }]) {
      const res = await replay(s, headers);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: -32020 } });
    }
  });

  it('rejects a resources/read whose Mcp-Name is not the body uri with -32020', async () => {
    const s = await capture2026('resources/read');
    const res = await replay(s, { 'mcp-name': 'mongodb://admin/system.users/schema' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: -32020 } });
  });
});

describe('2025-03-26 clients and concurrent streams on one session', () => {
  it('negotiates 2025-03-26 with the official client and serves tools, resources and prompts', async () => {
    const client = new Client({ name: 'old', version: '1.0.0' }, { supportedProtocolVersions: ['2025-03-26'] });
    await client.connect(new StreamableHTTPClientTransport(new URL(srv.url), { requestInit: { headers: identityHeaders('old-client') } }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-03-26');
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    expect((await client.listResources()).resources.length).toBe(1);
    expect((await client.listPrompts()).prompts.length).toBe(3);
    await client.close();
  });

  it('answers three concurrent POSTs on one session, sent with MCP-Protocol-Version 2025-03-26', async () => {
    const headers = { ...JSON_HEADERS, ...identityHeaders('three-streams') };
    const init = await raw(srv.url, { headers, body: INIT('2025-11-25') });
    const session = String(init.headers['mcp-session-id']);
    const on = { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-03-26' };
    const replies = await Promise.all(
      [0, 1, 2].map((i) => raw(srv.url, { headers: on, body: JSON.stringify({ jsonrpc: '2.0', id: 1000 + i, method: 'tools/list', params: {} }) })),
    );
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(replies.map((r) => (JSON.parse(r.body) as { id: number }).id)).toEqual([1000, 1001, 1002]);
  });

  it('still refuses a JSON-RPC batch from a 2025-03-26 client (BATCH_NOT_SUPPORTED)', async () => {
    const headers = { ...JSON_HEADERS, ...identityHeaders('batcher'), 'mcp-protocol-version': '2025-03-26' };
    const res = await raw(srv.url, { headers, body: `[${INIT('2025-03-26')}]` });
    expect(res.status).toBe(400);
    expect(res.body).toContain('BATCH_NOT_SUPPORTED');
  });
});

describe('server log notifications over HTTP', () => {
  it('delivers notifications/message for the session on its standalone GET stream, closed fields only', async () => {
    const headers = { ...JSON_HEADERS, ...identityHeaders('listener') };
    const init = await raw(srv.url, { headers, body: INIT('2025-11-25') });
    const session = String(init.headers['mcp-session-id']);
    const on = { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    await raw(srv.url, { headers: on, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
    const controller = new AbortController();
    const stream = await fetch(srv.url, { headers: { ...on, accept: 'text/event-stream' }, signal: controller.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    await raw(srv.url, {
      headers: on,
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'mongodb://admin/system.users/schema' } }),
    });
    let text = '';
    while (!text.includes('notifications/message')) text += (await reader.read()).value ?? '';
    controller.abort();
    const data = JSON.parse(
      text
        .split('\n')
        .find((l) => l.startsWith('data: ') && l.includes('notifications/message'))!
        .slice(6),
    ) as { params: unknown };
    expect(data.params).toEqual({
      level: 'warning',
      logger: 'mongodb-mcp-secure',
      data: { event: 'resource_read', name: 'collection-schema', outcome: 'refused', errorCode: 'NAMESPACE_FORBIDDEN' },
    });
  });
});

/**
 * Logging, resources, prompts and completion (issue #12) through a real in-process MCP client. The
 * database client is never connected: every refusal here must happen before any database round trip.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ProtocolError } from '@modelcontextprotocol/client';
import type { LoggingMessageNotification } from '@modelcontextprotocol/client';
import { connectInMemory } from './helpers/in-memory.ts';

type Handle = Awaited<ReturnType<typeof connectInMemory>>;
let h: Handle | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The JSON-RPC error a request ended with: its code and our closed code in data.code. */
async function refusal(p: Promise<unknown>): Promise<{ rpc: number; code: unknown; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the request should have been refused').toBeInstanceOf(ProtocolError);
  const e = err as ProtocolError;
  return { rpc: e.code, code: (e.data as { code?: unknown } | undefined)?.code, message: e.message };
}

function collectLogs(handle: Handle): LoggingMessageNotification['params'][] {
  const seen: LoggingMessageNotification['params'][] = [];
  handle.client.setNotificationHandler('notifications/message', (n) => void seen.push(n.params));
  return seen;
}

const settle = () => new Promise((r) => setImmediate(r));

describe('logging capability', () => {
  it('declares logging and answers logging/setLevel with an empty result', async () => {
    h = await connectInMemory({ readOnly: true });
    expect(h.client.getServerCapabilities()?.logging).toEqual({});
    expect(await h.client.setLoggingLevel('info')).toEqual({});
  });

  it('tells the client about its own refusals as a warning carrying only the tool, outcome and closed code', async () => {
    h = await connectInMemory({ readOnly: true, connectionString: 'mongodb://reader:s3cret-pass@db.internal:27017/' });
    const logs = collectLogs(h);
    await h.client.setLoggingLevel('debug');
    await h.client.callTool({ name: 'find', arguments: { database: 'admin', collection: 'system.users', filter: { password: 'hunter2' } } });
    await settle();
    expect(logs).toEqual([
      { level: 'warning', logger: 'mongodb-mcp-secure', data: { event: 'tool_call', name: 'find', outcome: 'refused', errorCode: 'NAMESPACE_FORBIDDEN' } },
    ]);
    // Never the arguments, the namespace's documents or the connection string.
    expect(JSON.stringify(logs)).not.toMatch(/hunter2|s3cret|db\.internal|system\.users/);
  });

  it('filters notifications below the level set with logging/setLevel', async () => {
    h = await connectInMemory({ readOnly: true });
    const logs = collectLogs(h);
    await h.client.setLoggingLevel('error');
    await h.client.callTool({ name: 'insert-many', arguments: { database: 'shop', collection: 'x', documents: [{}] } });
    await settle();
    expect(logs).toEqual([]);
  });

  it('never echoes an unknown tool name the caller typed', async () => {
    h = await connectInMemory({ readOnly: true });
    const logs = collectLogs(h);
    await h.client.callTool({ name: 'ignore previous instructions', arguments: {} });
    await settle();
    expect(logs.map((l) => l.data)).toEqual([{ event: 'tool_call', name: 'tool_call', outcome: 'refused', errorCode: 'UNKNOWN_TOOL' }]);
  });
});

describe('resources', () => {
  it('lists the redacted configuration and the per-collection schema and indexes templates', async () => {
    h = await connectInMemory({ readOnly: true });
    expect((await h.client.listResources()).resources.map((r) => r.uri)).toEqual(['config://effective']);
    const templates = (await h.client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(templates).toEqual(['mongodb://{database}/{collection}/schema', 'mongodb://{database}/{collection}/indexes']);
  });

  it('reads the effective configuration with every secret redacted, and audits the read', async () => {
    h = await connectInMemory({ readOnly: true, connectionString: 'mongodb://reader:s3cret-pass@db.internal:27017/', proxySecret: 'proxy-secret-0123456789' });
    const r = await h.client.readResource({ uri: 'config://effective' });
    const text = (r.contents[0] as { text: string }).text;
    expect(JSON.parse(text)).toMatchObject({ readOnly: true, connectionString: '[redacted]', proxySecret: '[redacted]' });
    expect(text).not.toMatch(/s3cret|proxy-secret|db\.internal/);
    expect(h.audit.records.at(-1)).toMatchObject({ event: 'resource_read', resource: 'config://effective', outcome: 'ok', errorCode: null });
  });

  it.each([
    ['mongodb://admin/system.users/schema', 'admin.system.users'],
    ['mongodb://admin/system.users/indexes', 'admin.system.users'],
    ['mongodb://local/oplog.rs/schema', 'local.oplog.rs'],
    ['mongodb://config/chunks/indexes', 'config.chunks'],
    ['mongodb://shop/system.profile/schema', 'shop.system.profile'],
    ['mongodb://ADMIN/users/schema', 'ADMIN.users'],
    ['mongodb://shop/%73ystem.js/schema', 'shop.system.js'],
  ])('refuses a read of %s with NAMESPACE_FORBIDDEN and audits it', async (uri, namespace) => {
    h = await connectInMemory({ readOnly: true });
    const r = await refusal(h.client.readResource({ uri }));
    expect(r).toMatchObject({ rpc: -32602, code: 'NAMESPACE_FORBIDDEN' });
    expect(h.audit.records).toEqual([
      expect.objectContaining({ event: 'resource_read', resource: uri, namespace, outcome: 'refused', errorCode: 'NAMESPACE_FORBIDDEN', subject: 'stdio' }),
    ]);
  });

  it('serves a reserved namespace as a resource only where allowReservedNamespaces lets the tools name it', async () => {
    h = await connectInMemory({ readOnly: true, allowReservedNamespaces: ['admin.system.version'] });
    expect((await refusal(h.client.readResource({ uri: 'mongodb://admin/system.users/schema' }))).code).toBe('NAMESPACE_FORBIDDEN');
    // Allowed: the guard lets it through to the database (unconnected here), so the refusal is not the policy's.
    expect((await refusal(h.client.readResource({ uri: 'mongodb://admin/system.version/indexes' }))).code).not.toBe('NAMESPACE_FORBIDDEN');
  });

  it('refuses a collection view whose tool is disabled, as tools/call would', async () => {
    h = await connectInMemory({ readOnly: true, disabledTools: ['collection-schema'] });
    expect((await refusal(h.client.readResource({ uri: 'mongodb://shop/orders/schema' }))).code).toBe('TOOL_DISABLED');
    expect(h.audit.records.at(-1)).toMatchObject({ event: 'resource_read', tool: 'collection-schema', outcome: 'refused', errorCode: 'TOOL_DISABLED' });
  });

  it('refuses and audits a URI that names no resource of this server', async () => {
    h = await connectInMemory({ readOnly: true });
    for (const uri of ['file:///etc/passwd', 'mongodb://shop/orders/documents', 'mongodb://shop/%E0%A4%A/schema']) {
      expect((await refusal(h.client.readResource({ uri }))).code).toBe('UNKNOWN_RESOURCE');
    }
    expect(h.audit.records.map((r) => [r.event, r.outcome, r.errorCode])).toEqual(Array(3).fill(['resource_read', 'refused', 'UNKNOWN_RESOURCE']));
  });

  it('does not offer subscriptions: nothing here changes under a read-only server that a client could wait for', async () => {
    h = await connectInMemory({ readOnly: true });
    expect(h.client.getServerCapabilities()?.resources).toEqual({});
    expect((await refusal(h.client.subscribeResource({ uri: 'config://effective' }))).rpc).toBe(-32601);
  });
});

describe('prompts', () => {
  it('lists prompts that each have a description', async () => {
    h = await connectInMemory({ readOnly: true });
    const prompts = (await h.client.listPrompts()).prompts;
    expect(prompts.map((p) => p.name)).toEqual(['explore-collection', 'plan-query', 'server-overview']);
    for (const p of prompts) expect(p.description).toBeTruthy();
  });

  it('renders explore-collection as read-only steps over the named collection, and audits it', async () => {
    h = await connectInMemory({ readOnly: true });
    const r = await h.client.getPrompt({ name: 'explore-collection', arguments: { database: 'shop', collection: 'orders' } });
    const text = (r.messages[0]!.content as { text: string }).text;
    expect(text).toContain('mongodb://shop/orders/schema');
    expect(text).toContain('READ_ONLY');
    expect(h.audit.records.at(-1)).toMatchObject({ event: 'prompt_get', resource: 'prompt:explore-collection', namespace: 'shop.orders', outcome: 'ok' });
  });

  it('refuses a prompt naming a reserved namespace with NAMESPACE_FORBIDDEN, and audits it', async () => {
    h = await connectInMemory({ readOnly: true });
    const r = await refusal(h.client.getPrompt({ name: 'explore-collection', arguments: { database: 'admin', collection: 'system.users' } }));
    expect(r).toMatchObject({ rpc: -32602, code: 'NAMESPACE_FORBIDDEN' });
    expect(h.audit.records.at(-1)).toMatchObject({ event: 'prompt_get', outcome: 'refused', errorCode: 'NAMESPACE_FORBIDDEN' });
  });

  it('refuses an unknown prompt and a missing required argument', async () => {
    h = await connectInMemory({ readOnly: true });
    expect((await refusal(h.client.getPrompt({ name: 'nope' }))).code).toBe('UNKNOWN_PROMPT');
    expect((await refusal(h.client.getPrompt({ name: 'plan-query', arguments: { database: 'shop', collection: 'orders' } }))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('completion', () => {
  it('declares completions and never completes a collection inside a reserved database (no database round trip)', async () => {
    h = await connectInMemory({ readOnly: true });
    expect(h.client.getServerCapabilities()?.completions).toEqual({});
    for (const database of ['admin', 'local', 'Config']) {
      const r = await h.client.complete({
        ref: { type: 'ref/resource', uri: 'mongodb://{database}/{collection}/schema' },
        argument: { name: 'collection', value: 'sys' },
        context: { arguments: { database } },
      });
      expect(r.completion.values).toEqual([]);
    }
    expect(h.audit.records.map((r) => [r.event, r.outcome, r.errorCode])).toEqual(Array(3).fill(['completion', 'refused', 'NAMESPACE_FORBIDDEN']));
  });

  it('completes nothing from a listing tool the operator disabled', async () => {
    h = await connectInMemory({ readOnly: true, disabledTools: ['metadata'] });
    const r = await h.client.complete({ ref: { type: 'ref/prompt', name: 'explore-collection' }, argument: { name: 'database', value: '' } });
    expect(r.completion).toEqual({ values: [], total: 0, hasMore: false });
    expect(h.audit.records.at(-1)).toMatchObject({ event: 'completion', outcome: 'refused', errorCode: 'TOOL_DISABLED' });
  });

  it('answers an argument it does not complete with no values, and an unknown reference with -32602', async () => {
    h = await connectInMemory({ readOnly: true });
    const r = await h.client.complete({ ref: { type: 'ref/prompt', name: 'plan-query' }, argument: { name: 'question', value: 'how' } });
    expect(r.completion.values).toEqual([]);
    expect(
      await refusal(h.client.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'x' } })),
    ).toMatchObject({ rpc: -32602, code: 'UNKNOWN_PROMPT' });
  });
});

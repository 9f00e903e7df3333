import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InMemoryTransport, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { createServer } from '../../src/server.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { memoryAuditSink } from '../../src/audit/audit-log.ts';
import { RECORD_MAX_BYTES } from '../../src/audit/bounded-record.ts';
import { stdioIdentity } from '../../src/identity/identity.ts';
import { unconnectedMongo } from './helpers/in-memory.ts';
import { connectHttpClient, identityHeaders, INIT, JSON_HEADERS, raw, startHttp } from './helpers/http.ts';

const STDIO_ENTRY = resolve(import.meta.dirname, 'helpers/stdio-entry.ts');
const INIT_PARAMS = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } };

/** Built as text and parsed: JSON.stringify of a 3,000-deep value overflows the test's own stack. */
function deepFilter(depth: number): unknown {
  return JSON.parse('{"$and":['.repeat(depth) + '{"status":"x"}' + ']}'.repeat(depth));
}

/** The tools/call as JSON text: the deep one is written by hand, JSON.stringify would recurse 3,000 deep. */
function callText(id: number, a: (typeof ATTEMPTS)[number]): string {
  if (!('deep' in a)) return JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: a.params });
  const filter = '{"$and":['.repeat(a.deep) + '{"status":"x"}' + ']}'.repeat(a.deep);
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"find","arguments":{"database":"shop","collection":"orders","filter":${filter}}}}`;
}

/** The attempts the red-team review found unaudited or oversized, with the record each must leave. */
const ATTEMPTS = [
  { what: 'arguments as a string', params: { name: 'find', arguments: 'db.orders' }, outcome: 'refused', errorCode: 'INVALID_PARAMS', rpcCode: -32602 },
  { what: 'arguments as an array', params: { name: 'find', arguments: ['shop', 'orders'] }, outcome: 'refused', errorCode: 'INVALID_PARAMS', rpcCode: -32602 },
  { what: 'no name', params: { arguments: { database: 'shop', collection: 'orders' } }, outcome: 'refused', errorCode: 'INVALID_PARAMS', rpcCode: -32602 },
  {
    what: 'a 3,000-deep filter',
    params: { name: 'find', arguments: { database: 'shop', collection: 'orders', filter: deepFilter(3000) } },
    deep: 3000,
    outcome: 'refused',
    errorCode: 'INVALID_ARGUMENT',
  },
  {
    what: 'a 900,000-character collection name',
    params: { name: 'find', arguments: { database: 'shop', collection: 'c'.repeat(900_000) } },
    outcome: 'refused',
    errorCode: 'INVALID_ARGUMENT',
  },
] as const;

function expectOneBoundedRecord(records: readonly object[], a: (typeof ATTEMPTS)[number]): void {
  expect(records, a.what).toHaveLength(1);
  const r = records[0] as Record<string, unknown>;
  expect(r, a.what).toMatchObject({ event: 'tool_call', outcome: a.outcome, errorCode: a.errorCode, ...('rpcCode' in a ? { rpcCode: a.rpcCode } : {}) });
  expect(r.argsDigest, a.what).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(Buffer.byteLength(JSON.stringify(r)), a.what).toBeLessThanOrEqual(RECORD_MAX_BYTES);
}

/** A server over the in-memory transport, driven by raw JSON-RPC (an SDK client would refuse to send these). */
async function rawInMemory() {
  const audit = memoryAuditSink();
  const mongo = unconnectedMongo();
  const server = createServer(defaultConfig({ readOnly: true }), { client: mongo, audit, defaultIdentity: stdioIdentity() });
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const answers = new Map<unknown, JSONRPCMessage>();
  client.onmessage = (m) => void answers.set((m as { id?: unknown }).id, m);
  await client.start();
  let next = 1;
  const request = async (method: string, params: unknown): Promise<JSONRPCMessage> => {
    const id = next++;
    await client.send({ jsonrpc: '2.0', id, method, params } as JSONRPCMessage);
    await expect.poll(() => answers.has(id)).toBe(true);
    return answers.get(id)!;
  };
  await request('initialize', INIT_PARAMS);
  await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return {
    audit,
    request,
    send: (m: unknown) => client.send(m as JSONRPCMessage),
    async close() {
      await server.close();
      await mongo.close();
    },
  };
}

describe('every tools/call attempt leaves exactly one bounded audit record', () => {
  it.each(ATTEMPTS)('in process: $what', async (a) => {
    const h = await rawInMemory();
    await h.request('tools/call', a.params);
    expectOneBoundedRecord(h.audit.records, a);
    await h.close();
  });

  it('records a tools/call whose params are not an object, which the SDK drops without an answer', async () => {
    const h = await rawInMemory();
    await h.send({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: 'find' });
    await expect.poll(() => h.audit.records.length).toBe(1);
    expect(h.audit.records[0]).toMatchObject({ tool: null, outcome: 'refused', errorCode: 'PROTOCOL_ERROR' });
    await h.close();
  });

  it('marks the cut collection name as truncated with its original length', async () => {
    const h = await rawInMemory();
    await h.request('tools/call', ATTEMPTS[4].params);
    const r = h.audit.records[0]!;
    expect(r.truncated).toEqual({ namespace: 'shop.'.length + 900_000 });
    expect(r.namespace).toMatch(/^shop\.c+$/);
    await h.close();
  });

  it('still writes a single record for a well-formed call that reaches the dispatcher', async () => {
    const h = await rawInMemory();
    await h.request('tools/call', { name: 'insert-many', arguments: { database: 'shop', collection: 'orders', documents: [{}] } });
    expect(h.audit.records).toHaveLength(1);
    expect(h.audit.records[0]).toMatchObject({ tool: 'insert-many', outcome: 'refused', errorCode: 'READ_ONLY' });
    expect(h.audit.records[0]).not.toHaveProperty('rpcCode');
    await h.close();
  });

  it.each(ATTEMPTS)('over a 2025-era HTTP session, with the request id and token id of the edge: $what', async (a) => {
    const srv = await startHttp();
    const headers = { ...JSON_HEADERS, ...identityHeaders(), 'x-auth-token-id': 'jti-123' };
    const init = await raw(srv.url, { headers, body: INIT() });
    const session = String(init.headers['mcp-session-id']);
    await raw(srv.url, {
      headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    const res = await raw(srv.url, { headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, body: callText(7, a) });
    expect(res.status).toBe(200);
    const calls = srv.audit.records.filter((r) => r.event === 'tool_call');
    expectOneBoundedRecord(calls, a);
    expect(calls[0]).toMatchObject({ requestId: 'req-123', tokenId: 'jti-123', sessionId: session, subject: 'user-1', agent: 'agent-1' });
    await srv.close();
  });

  it('over 2026-07-28 stateless HTTP: a malformed tools/call is answered -32602 and audited once', async () => {
    const srv = await startHttp();
    const client = await connectHttpClient(srv.url, '2026-07-28', { ...identityHeaders(), 'x-auth-token-id': 'jti-456' });
    await expect(client.request({ method: 'tools/call', params: { name: 'find', arguments: 'db.orders' } } as never)).rejects.toMatchObject({ code: -32602 });
    const calls = srv.audit.records.filter((r) => r.event === 'tool_call');
    expectOneBoundedRecord(calls, ATTEMPTS[0]);
    expect(calls[0]).toMatchObject({ requestId: 'req-123', tokenId: 'jti-456' });
    await client.close();
    await srv.close();
  });

  it('over stdio: a malformed tools/call gets its record on the audit sink (stderr)', async () => {
    const child = spawn(process.execPath, [STDIO_ENTRY], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const send = (m: unknown) => child.stdin.write(JSON.stringify(m) + '\n');
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT_PARAMS });
    await expect.poll(() => stdout.includes('"id":1'), { timeout: 10_000 }).toBe(true);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'find', arguments: ['shop', 'orders'] } });
    await expect.poll(() => stdout.includes('"id":2'), { timeout: 10_000 }).toBe(true);
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    const records = stderr
      .split('\n')
      .filter((l) => l.startsWith('{"time"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expectOneBoundedRecord(records, ATTEMPTS[1]);
    expect(records[0]).toMatchObject({ subject: 'stdio', agent: 'stdio' });
  });
});

describe('tools/call refused by the SDK before any server instance', () => {
  it.each<{ what: string; headers: Record<string, string>; params: unknown; rpcCode: number; errorCode: string }>([
    {
      what: 'a 2026-07-28 header without the per-request envelope',
      headers: { 'mcp-protocol-version': '2026-07-28' },
      params: { name: 'find', arguments: {} },
      rpcCode: -32602,
      errorCode: 'INVALID_PARAMS',
    },
    {
      what: 'an incomplete 2026-07-28 envelope',
      headers: {},
      params: { name: 'find', arguments: 'x', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } },
      rpcCode: -32602,
      errorCode: 'INVALID_PARAMS',
    },
    { what: 'params that are not an object', headers: { 'mcp-protocol-version': '2026-07-28' }, params: 'find', rpcCode: -32600, errorCode: 'PROTOCOL_ERROR' },
  ])('records $what once, with the answer’s JSON-RPC code', async (c) => {
    const srv = await startHttp();
    const res = await raw(srv.url, {
      headers: { ...JSON_HEADERS, ...identityHeaders(), 'x-auth-token-id': 'jti-789', ...c.headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: c.params }),
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe(c.rpcCode);
    const calls = srv.audit.records.filter((r) => r.event === 'tool_call');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      outcome: 'refused',
      errorCode: c.errorCode,
      rpcCode: c.rpcCode,
      requestId: 'req-123',
      tokenId: 'jti-789',
      subject: 'user-1',
    });
    await srv.close();
  });
});

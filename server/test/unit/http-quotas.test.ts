import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool, type ToolDefinition } from '../../src/tools/tool.ts';
import { formatValue } from '../../src/tools/format.ts';
import { ConcurrencyGate } from '../../src/transport/http/concurrency-gate.ts';
import { ResponseBudget, wireBytes } from '../../src/transport/response-budget.ts';
import { INIT, JSON_HEADERS, PROXY_SECRET, connectHttpClient, identityHeaders, raw, startHttp } from './helpers/http.ts';

describe('per-caller concurrency gate', () => {
  it('refuses a caller at its limit while another caller still enters', () => {
    const gate = new ConcurrencyGate(2, 10);
    expect(gate.enter('agent').kind).toBe('entered');
    expect(gate.enter('agent').kind).toBe('entered');
    expect(gate.enter('agent').kind).toBe('caller-busy');
    expect(gate.enter('analyst').kind).toBe('entered');
  });

  it('refuses everyone at the global limit, and gives a place back exactly once per leave', () => {
    const gate = new ConcurrencyGate(5, 2);
    const a = gate.enter('a');
    gate.enter('b');
    expect(gate.enter('c').kind).toBe('server-busy');
    if (a.kind !== 'entered') throw new Error('expected entry');
    a.leave();
    a.leave();
    expect(gate.inFlight).toBe(1);
    expect(gate.enter('c').kind).toBe('entered');
    expect(gate.enter('d').kind).toBe('server-busy');
  });
});

describe('response byte budget', () => {
  it('charges until the limit and refuses the bytes that do not fit, taking none of them', () => {
    const b = new ResponseBudget(100);
    expect(b.charge(60)).toBe(true);
    expect(b.charge(50)).toBe(false);
    expect(b.used).toBe(60);
    expect(b.charge(40)).toBe(true);
    expect(b.exceeded()).toMatchObject({ code: 'RESPONSE_TOO_LARGE', message: expect.stringContaining('maxResponseBytes=100') });
  });

  it('measures text as it travels inside a JSON string', () => {
    for (const text of ['plain', '{"a":"b\\\\c"}', 'é ü 日本', '{"x":"\\n"}']) {
      expect(wireBytes(text)).toBe(Buffer.byteLength(JSON.stringify(text)) - 2);
    }
  });
});

// ---- through the real HTTP transport ----

let release: () => void = () => undefined;
let entered = 0;
/** Tools that let a test hold requests in flight and produce answers of a chosen size, with no database. */
const testTools: ToolDefinition[] = [
  defineTool({
    name: 'hold',
    operationType: 'read',
    description: 'waits until the test releases it',
    input: z.object({}),
    async execute() {
      entered++;
      await new Promise<void>((resolve) => {
        const previous = release;
        release = () => {
          previous();
          resolve();
        };
      });
      return { text: 'released', documents: null };
    },
  }),
  defineTool({
    name: 'pad',
    operationType: 'read',
    description: 'a formatted value of `bytes` bytes',
    input: z.object({ bytes: z.number().int() }),
    async execute(args, ctx) {
      return formatValue('padding', { pad: 'x'.repeat(args.bytes) }, ctx.config);
    },
  }),
  defineTool({
    name: 'raw',
    operationType: 'read',
    description: "unformatted text of `bytes` bytes (bypasses the tools' accounting)",
    input: z.object({ bytes: z.number().int() }),
    async execute(args) {
      return { text: '"'.repeat(args.bytes), documents: null };
    },
  }),
];

type Started = Awaited<ReturnType<typeof startHttp>>;
let srv: Started | undefined;
afterEach(async () => {
  release();
  release = () => undefined;
  entered = 0;
  await srv?.close();
  srv = undefined;
});

/** A caller as the edge asserts it: subject + client. */
const as = (subject: string, client = 'agent-1') => ({ ...identityHeaders(subject), 'x-auth-client-id': client });
const post = (s: Started, headers: Record<string, string>, body: string) => raw(s.url, { headers: { ...JSON_HEADERS, ...headers }, body });
const initialize = (s: Started, headers: Record<string, string>, version = '2025-06-18') => post(s, headers, INIT(version));

async function session(s: Started, headers: Record<string, string>): Promise<Record<string, string>> {
  const r = await initialize(s, headers);
  expect(r.status).toBe(200);
  return { ...headers, 'mcp-session-id': String(r.headers['mcp-session-id']), 'mcp-protocol-version': '2025-06-18' };
}
const call = (s: Started, headers: Record<string, string>, name: string, args: Record<string, unknown> = {}, id = 7) =>
  post(s, headers, JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }));
const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setImmediate(r));
};

describe('HTTP: per-caller session quota', () => {
  it('answers the caller over maxSessionsPerCaller with 429 CALLER_SESSION_LIMIT and Retry-After, and audits it', async () => {
    srv = await startHttp({ maxSessionsPerCaller: 2, sessionIdleMs: 60_000 });
    expect((await initialize(srv, as('svc'), '2025-06-18')).status).toBe(200);
    expect((await initialize(srv, as('svc'), '2025-11-25')).status).toBe(200); // both 2025 revisions draw on one quota
    const r = await initialize(srv, as('svc'));
    expect(r.status).toBe(429);
    expect(JSON.parse(r.body).error.data.code).toBe('CALLER_SESSION_LIMIT');
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(59);
    expect(srv.audit.records.at(-1)).toMatchObject({
      event: 'http_refused',
      errorCode: 'CALLER_SESSION_LIMIT',
      httpStatus: 429,
      subject: 'svc',
      agent: 'agent-1',
    });
  });

  it('still serves another caller, and the same user through another client, when one caller is at its quota', async () => {
    srv = await startHttp({ maxSessionsPerCaller: 1 });
    await session(srv, as('svc'));
    expect((await initialize(srv, as('svc'))).status).toBe(429);
    expect((await initialize(srv, as('analyst'))).status).toBe(200);
    expect((await initialize(srv, as('svc', 'other-agent'))).status).toBe(200);
  });

  it('gives the place back when the caller ends a session (DELETE)', async () => {
    srv = await startHttp({ maxSessionsPerCaller: 1 });
    const h = await session(srv, as('svc'));
    expect((await raw(srv.url, { method: 'DELETE', headers: h })).status).toBe(200);
    expect((await initialize(srv, as('svc'))).status).toBe(200);
  });

  it('does not let forged identity headers buy a fresh quota: without the proxy credential everyone is one anonymous caller', async () => {
    srv = await startHttp({ maxSessionsPerCaller: 1, proxySecret: '', insecureNoProxyAuth: true });
    expect((await initialize(srv, { 'x-auth-subject': 'forged-1' })).status).toBe(200);
    const r = await initialize(srv, { 'x-auth-subject': 'forged-2', 'x-auth-client-id': 'forged' });
    expect(r.status).toBe(429);
    expect(srv.audit.records.at(-1)).toMatchObject({ subject: 'anonymous' });
  });

  it('keeps the global cap behind the quotas: 503 SESSION_LIMIT with Retry-After', async () => {
    srv = await startHttp({ maxSessions: 1 });
    await session(srv, as('a'));
    const r = await initialize(srv, as('b'));
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).error.data.code).toBe('SESSION_LIMIT');
    expect(r.headers['retry-after']).toBeDefined();
  });
});

describe('HTTP: JSON-RPC batches', () => {
  it('refuses a batch with 400 BATCH_NOT_SUPPORTED before any message runs, and audits it', async () => {
    srv = await startHttp({}, testTools);
    const h = await session(srv, as('svc'));
    const batch = [1, 2, 3].map((id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'pad', arguments: { bytes: 10 } } }));
    const r = await post(srv, h, JSON.stringify(batch));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({ code: -32600, data: { code: 'BATCH_NOT_SUPPORTED' } });
    expect(srv.audit.records.filter((x) => x.event === 'tool_call')).toEqual([]);
    expect(srv.audit.records.at(-1)).toMatchObject({ event: 'http_refused', errorCode: 'BATCH_NOT_SUPPORTED', subject: 'svc' });
  });
});

describe('HTTP: response byte budget', () => {
  const LIMIT = 64 * 1024;

  it('stops a tool result at maxResponseBytes with RESPONSE_TOO_LARGE naming the limit, and lets a smaller one through', async () => {
    srv = await startHttp({ maxResponseBytes: LIMIT }, testTools);
    const h = await session(srv, as('svc'));
    const big = await call(srv, h, 'pad', { bytes: LIMIT });
    expect(big.status).toBe(200);
    const result = JSON.parse(big.body).result;
    expect(result.isError).toBe(true);
    expect(result.structuredContent.error).toMatchObject({ code: 'RESPONSE_TOO_LARGE', message: expect.stringContaining(`maxResponseBytes=${LIMIT}`) });
    expect(big.body.length).toBeLessThan(2048);
    expect(srv.audit.records.at(-1)).toMatchObject({ event: 'tool_call', tool: 'pad', errorCode: 'RESPONSE_TOO_LARGE' });
    const small = await call(srv, h, 'pad', { bytes: LIMIT / 2 });
    expect(JSON.parse(small.body).result.isError).toBeUndefined();
  });

  it('holds the budget on the sessionless 2026-07-28 path too', async () => {
    srv = await startHttp({ maxResponseBytes: LIMIT }, testTools);
    const client = await connectHttpClient(srv.url, '2026-07-28', as('svc'));
    const r = await client.callTool({ name: 'pad', arguments: { bytes: LIMIT } });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ error: { code: 'RESPONSE_TOO_LARGE' } });
    await client.close();
  });

  it("never sends more than maxResponseBytes even when a result escaped the tools' accounting: a JSON-RPC error in its place", async () => {
    srv = await startHttp({ maxResponseBytes: LIMIT }, testTools);
    const h = await session(srv, as('svc'));
    const r = await call(srv, h, 'raw', { bytes: LIMIT / 2 + 1 }, 42); // quotes double on the wire
    expect(r.status).toBe(200);
    expect(Buffer.byteLength(r.body)).toBeLessThan(LIMIT);
    expect(JSON.parse(r.body)).toMatchObject({
      id: 42,
      error: { data: { code: 'RESPONSE_TOO_LARGE' }, message: expect.stringContaining(`maxResponseBytes=${LIMIT}`) },
    });
    expect(srv.audit.records.at(-1)).toMatchObject({ event: 'http_refused', errorCode: 'RESPONSE_TOO_LARGE', subject: 'svc' });
  });
});

describe('HTTP: per-caller concurrency', () => {
  it('answers the request over maxConcurrentRequestsPerCaller with 429 CALLER_BUSY and Retry-After while another caller is served', async () => {
    srv = await startHttp({ maxConcurrentRequestsPerCaller: 2 }, testTools);
    const svc = await session(srv, as('svc'));
    const analyst = await session(srv, as('analyst'));
    const held = [call(srv, svc, 'hold', {}, 1), call(srv, svc, 'hold', {}, 2)];
    await until(() => entered === 2);
    const busy = await call(srv, svc, 'pad', { bytes: 1 }, 3);
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('1');
    expect(JSON.parse(busy.body).error.data.code).toBe('CALLER_BUSY');
    expect(srv.audit.records.at(-1)).toMatchObject({ event: 'http_refused', errorCode: 'CALLER_BUSY', httpStatus: 429, subject: 'svc' });
    const other = await call(srv, analyst, 'pad', { bytes: 1 }, 4);
    expect(other.status).toBe(200);
    expect(JSON.parse(other.body).result.isError).toBeUndefined();
    release();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    expect((await call(srv, svc, 'pad', { bytes: 1 }, 5)).status).toBe(200);
  });

  it('answers 503 SERVER_BUSY when all callers together reach maxConcurrentRequests', async () => {
    srv = await startHttp({ maxConcurrentRequests: 1 }, testTools);
    const svc = await session(srv, as('svc'));
    const held = call(srv, svc, 'hold', {}, 1);
    await until(() => entered === 1);
    const r = await initialize(srv, as('analyst'));
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).error.data.code).toBe('SERVER_BUSY');
    expect(r.headers['retry-after']).toBe('1');
    release();
    expect((await held).status).toBe(200);
  });

  it("counts a caller's half-sent body (slowloris) against that caller only", async () => {
    srv = await startHttp({ maxConcurrentRequestsPerCaller: 1 });
    const { port } = new URL(srv.url);
    const slow = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => slow.once('connect', resolve));
    const head = Object.entries({ ...JSON_HEADERS, ...as('svc'), host: `127.0.0.1:${port}`, 'content-length': '1000' })
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n');
    slow.write(`POST /mcp HTTP/1.1\r\n${head}\r\n\r\n{"jsonrpc":`); // and nothing more
    try {
      let r = await initialize(srv, as('svc'));
      for (let i = 0; i < 50 && r.status !== 429; i++) r = await initialize(srv, as('svc')); // until the server has read the slow head
      expect(r.status).toBe(429);
      expect(JSON.parse(r.body).error.data.code).toBe('CALLER_BUSY');
      expect((await initialize(srv, as('analyst'))).status).toBe(200);
    } finally {
      slow.destroy();
    }
  });

  it('does not charge a refused request (bad proxy credential) to anyone', async () => {
    srv = await startHttp({ maxConcurrentRequestsPerCaller: 1 }, testTools);
    for (let i = 0; i < 3; i++) expect((await initialize(srv, { ...as('svc'), 'x-mcp-proxy-auth': `${PROXY_SECRET}x` })).status).toBe(401);
    expect((await initialize(srv, as('svc'))).status).toBe(200);
  });
});

/**
 * Per-caller quotas on the read-only MCP server, attacked through the edge with real tokens (issue #10,
 * findings 3 and 4): one identity hoarding sessions, one request asking for a ~100x larger answer (the red
 * team's JSON-RPC batch of padded aggregates, and a single padded aggregate), one caller flooding the
 * server with concurrent calls — while another caller keeps being served and the server's memory stays
 * bounded. Every refusal is a closed code, and the audit log names the caller.
 */
import { afterEach, describe, expect, inject, it } from 'vitest';
import { rawRequest, type RawResponse } from '../harness/http.ts';
import { serviceAgentToken, userToken } from '../harness/tokens.ts';
import { currentManifest } from '../harness/manifest.ts';
import { auditWhere, readAudit, type AuditLine } from '../harness/audit.ts';
import { recordProof } from '../harness/proof.ts';
import { groupMemoryMiB } from '../../scripts/stack/memory.ts';
import { defaultConfig } from '../../server/src/config/schema.ts';

const m = inject('manifest');
const path = new URL(m.resources.readOnly).pathname;
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

// The server's defaults: both runtimes start it with them, so they are what is proven here.
const {
  maxSessionsPerCaller: SESSIONS_PER_CALLER,
  maxConcurrentRequestsPerCaller: REQUESTS_PER_CALLER,
  maxResponseBytes: RESPONSE_BYTES,
  sessionIdleMs,
} = defaultConfig();

const initBody = (version: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'quota-attacker', version: '1' } },
  });

/** One caller's raw view of /mcp: initialize, calls on a session, DELETE. */
function caller(token: string) {
  const post = (body: string, headers: Record<string, string> = {}): Promise<RawResponse> =>
    rawRequest(m, { method: 'POST', path, headers: { ...mcpHeaders, authorization: `Bearer ${token}`, ...headers }, body });
  return {
    post,
    initialize: (version = '2025-06-18', headers: Record<string, string> = {}) => post(initBody(version), headers),
    call: (sessionId: string, name: string, args: Record<string, unknown>, id = 2) =>
      post(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }), {
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-06-18',
      }),
    end: (sessionId: string) =>
      rawRequest(m, {
        method: 'DELETE',
        path,
        headers: { ...mcpHeaders, authorization: `Bearer ${token}`, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
      }),
  };
}
type Caller = ReturnType<typeof caller>;

const sessionOf = (r: RawResponse) => {
  expect(r.status, r.body.slice(0, 300)).toBe(200);
  return String(r.headers['mcp-session-id']);
};
const errorCodeOf = (r: RawResponse): unknown => {
  try {
    return (JSON.parse(r.body) as { error?: { data?: { code?: unknown } } }).error?.data?.code;
  } catch {
    return undefined;
  }
};
/** A tool result's own error code (isError results travel as HTTP 200). */
const toolErrorOf = (r: RawResponse) =>
  (JSON.parse(r.body) as { result?: { isError?: boolean; structuredContent?: { error?: { code: string; message: string } } } }).result?.structuredContent
    ?.error;

/** 100 orders, each padded by $addFields with a literal the request carries once: ~100x amplification. */
const padded = (padBytes: number) => ({
  database: m.database.name,
  collection: 'orders',
  pipeline: [{ $limit: 100 }, { $addFields: { pad: 'x'.repeat(padBytes) } }],
});

const opened: Array<{ who: Caller; id: string }> = [];
/** Ends every session this suite opened (DELETE): the tests after, and later suites, use the same identities. */
const endAll = async () => {
  const all = opened.splice(0);
  await Promise.all(all.map((s) => s.who.end(s.id).catch(() => undefined)));
};
afterEach(endAll);

async function openSession(who: Caller): Promise<string> {
  const id = sessionOf(await who.initialize());
  opened.push({ who, id });
  return id;
}

describe('one identity cannot take every session', () => {
  it('answers the service agent over its session quota with 429 CALLER_SESSION_LIMIT and Retry-After, while the analyst still initializes', async (ctx) => {
    const agent = caller((await serviceAgentToken(m)).access_token);
    const analyst = caller((await userToken(m, 'analyst', 'mcp:read')).access_token);
    // Sessions of both 2025 revisions draw on one quota; earlier suites may hold some of the agent's places.
    let refused: RawResponse | undefined;
    let mine = 0;
    for (let i = 0; i <= SESSIONS_PER_CALLER && !refused; i++) {
      const r = await agent.initialize(i % 2 ? '2025-11-25' : '2025-06-18');
      if (r.status === 200) {
        opened.push({ who: agent, id: String(r.headers['mcp-session-id']) });
        mine++;
      } else refused = r;
    }
    expect(refused?.status).toBe(429);
    expect(errorCodeOf(refused!)).toBe('CALLER_SESSION_LIMIT');
    const retryAfter = Number(refused!.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(sessionIdleMs / 1000); // at most the idle time: until the agent's oldest session expires
    expect(mine).toBeLessThanOrEqual(SESSIONS_PER_CALLER);

    // Headers a client forges are replaced by the edge's verified identity: they buy no fresh quota.
    const forged = await agent.initialize('2025-06-18', { 'x-auth-subject': 'someone-else', 'x-auth-client-id': 'another-agent', 'x-mcp-proxy-auth': 'guess' });
    expect(forged.status).toBe(429);
    expect(errorCodeOf(forged)).toBe('CALLER_SESSION_LIMIT');

    const other = await analyst.initialize();
    const analystSession = sessionOf(other);
    opened.push({ who: analyst, id: analystSession });

    const audit = (await auditWhere(m.auditLog.readOnly, (l) => l.errorCode === 'CALLER_SESSION_LIMIT')).map((e) => e.line);
    expect(audit.at(-1)).toMatchObject({ event: 'http_refused', httpStatus: 429, agent: m.clients.service.id });

    // Ending one session (DELETE) gives the agent its place back at once.
    const last = opened.filter((s) => s.who === agent).pop()!;
    opened.splice(opened.indexOf(last), 1);
    expect((await agent.end(last.id)).status).toBe(200);
    const again = await agent.initialize();
    opened.push({ who: agent, id: sessionOf(again) });
    recordProof(ctx, {
      attack: `service agent opens sessions (2025-06-18 + 2025-11-25) past its quota, then forges identity headers`,
      expected: '429 CALLER_SESSION_LIMIT + Retry-After; analyst initialize 200',
      observed: `${refused!.status} ${String(errorCodeOf(refused!))} Retry-After ${retryAfter} s after ${mine} new; forged ${forged.status}; analyst ${other.status}`,
    });
  });
});

describe('one request cannot make a huge answer', () => {
  it("refuses the red team's JSON-RPC batch of 100 padded aggregates with 400 BATCH_NOT_SUPPORTED, running none of them", async (ctx) => {
    const agent = caller((await serviceAgentToken(m)).access_token);
    const id = await openSession(agent);
    const isBatchRefusal = (l: AuditLine) => l.event === 'http_refused' && l.errorCode === 'BATCH_NOT_SUPPORTED';
    const earlier = await readAudit(m.auditLog.readOnly);
    const before = earlier.filter((l) => l.event === 'tool_call').length;
    const refusalsBefore = earlier.filter(isBatchRefusal).length;
    const batch = Array.from({ length: 100 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i + 10,
      method: 'tools/call',
      params: { name: 'aggregate', arguments: padded(9_500) },
    }));
    const body = JSON.stringify(batch);
    const r = await agent.post(body, { 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({ code: -32600, data: { code: 'BATCH_NOT_SUPPORTED' } });
    // Wait for the refusal's record (compose delivers it through the container log), then count the calls.
    const refusals = await auditWhere(m.auditLog.readOnly, isBatchRefusal, { min: refusalsBefore + 1 });
    expect(refusals).toHaveLength(refusalsBefore + 1);
    expect(refusals.at(-1)!.line).toMatchObject({ agent: m.clients.service.id });
    expect((await readAudit(m.auditLog.readOnly)).filter((l) => l.event === 'tool_call').length).toBe(before);
    recordProof(ctx, {
      attack: `JSON-RPC batch of 100 padded aggregates (${(Buffer.byteLength(body) / 1e6).toFixed(2)} MB body)`,
      expected: '400 BATCH_NOT_SUPPORTED, no tool runs',
      observed: `${r.status} ${String(errorCodeOf(r))}, ${r.body.length} B answer, 0 tool calls`,
    });
  });

  it('stops a single padded aggregate at maxResponseBytes with RESPONSE_TOO_LARGE naming the limit', async (ctx) => {
    const agent = caller((await serviceAgentToken(m)).access_token);
    const id = await openSession(agent);
    const r = await agent.call(id, 'aggregate', padded(100_000)); // 100 × 100 kB asked for: 10 MB
    expect(r.status).toBe(200);
    expect(toolErrorOf(r)).toMatchObject({ code: 'RESPONSE_TOO_LARGE', message: expect.stringContaining(`maxResponseBytes=${RESPONSE_BYTES}`) });
    expect(Buffer.byteLength(r.body)).toBeLessThan(RESPONSE_BYTES);
    const fits = await agent.call(id, 'aggregate', padded(1_000), 3); // 100 kB: an ordinary answer still arrives
    expect(toolErrorOf(fits)).toBeUndefined();
    const line = (await auditWhere(m.auditLog.readOnly, (l) => l.tool === 'aggregate' && l.errorCode === 'RESPONSE_TOO_LARGE')).at(-1)?.line;
    expect(line).toMatchObject({ outcome: 'refused', agent: m.clients.service.id });
    recordProof(ctx, {
      attack: 'aggregate asking for 100 orders × 100 kB $addFields padding (10 MB)',
      expected: `RESPONSE_TOO_LARGE naming maxResponseBytes=${RESPONSE_BYTES}`,
      observed: `${toolErrorOf(r)?.code} in a ${r.body.length} B answer; a 100 kB answer still served`,
    });
  });
});

describe("one caller's flood", () => {
  it('answers calls over the per-caller concurrency with 429 CALLER_BUSY while the analyst is served, and the server memory stays bounded', {
    timeout: 180_000,
  }, async (ctx) => {
    const agent = caller((await serviceAgentToken(m)).access_token);
    const analyst = caller((await userToken(m, 'analyst', 'mcp:read')).access_token);
    const agentSession = await openSession(agent);
    const analystSession = await openSession(analyst);
    const pid = (await currentManifest()).pids?.['mcp-ro']; // today's: a fault suite may have restarted it
    const rss = () => (pid ? (groupMemoryMiB([{ name: 'mcp-ro', pid }])['mcp-ro'] ?? 0) : 0);
    // Each probe unique (the audit suite proves every call is recorded once, by distinct argument digests).
    let probes = 0;
    const analystFind = () =>
      analyst.call(
        analystSession,
        'find',
        { database: m.database.name, collection: 'orders', filter: { _id: { $ne: `quota-probe-${Date.now()}-${probes++}` } }, limit: 1 },
        9,
      );
    const idleMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await analystFind();
      idleMs.push(performance.now() - t0);
    }
    const baseline = rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);

    const statuses = new Map<string, number>();
    const analystMs: number[] = [];
    let busy: RawResponse | undefined;
    let analystFailures = 0;
    try {
      // Rounds until the gate has been seen refusing: concurrency is a race, so no single round is sure to show it.
      for (let round = 0; round < 5 && !(busy && round >= 3); round++) {
        const flood = Array.from({ length: 16 }, (_, i) => agent.call(agentSession, 'aggregate', padded(100_000), 100 + i));
        const batch = agent.post(
          JSON.stringify(
            Array.from({ length: 100 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'aggregate', arguments: padded(9_500) } })),
          ),
          { 'mcp-session-id': agentSession, 'mcp-protocol-version': '2025-06-18' },
        );
        const t0 = performance.now();
        const served = await analystFind();
        analystMs.push(performance.now() - t0);
        if (served.status !== 200 || toolErrorOf(served)) analystFailures++;
        for (const r of [...(await Promise.all(flood)), await batch]) {
          const key = `${r.status} ${String(errorCodeOf(r) ?? toolErrorOf(r)?.code ?? 'ok')}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
          if (errorCodeOf(r) === 'CALLER_BUSY') busy = r;
          expect(Buffer.byteLength(r.body)).toBeLessThan(RESPONSE_BYTES);
        }
      }
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, rss());

    expect(analystFailures).toBe(0);
    expect(busy?.status).toBe(429);
    expect(busy?.headers['retry-after']).toBe('1');
    const audited = (await auditWhere(m.auditLog.readOnly, (l) => l.errorCode === 'CALLER_BUSY')).at(-1)?.line;
    expect(audited).toMatchObject({ event: 'http_refused', httpStatus: 429, agent: m.clients.service.id });
    // Bound: at most REQUESTS_PER_CALLER of this caller's answers are built at once, each stopped at
    // maxResponseBytes. Per call: the driver's first batch (≤ 16 MiB of BSON from the database) and its
    // decoded documents, plus ≤ 4 MiB of text in ≈3 copies (parts, JSON, the Buffer sent) ≈ 45 MiB; four at
    // once ≈ 180 MiB, with room for the garbage collector's lag: 256 MiB over the baseline. (Before the fix,
    // one batch took the server from 730 MB to 1.4 GB.)
    const BOUND_MIB = 256;
    if (pid) expect(peak - baseline).toBeLessThan(BOUND_MIB);
    const observed = [...statuses].map(([k, n]) => `${n}× ${k}`).join(', ');
    // Latencies are reported, never asserted (no timing asserts): what the analyst saw idle and under the flood.
    const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join('/');
    recordProof(ctx, {
      attack: `service agent floods: rounds of 16 concurrent 10 MB aggregates + a 100-call batch, analyst calls meanwhile`,
      expected: `429 CALLER_BUSY + Retry-After beyond ${REQUESTS_PER_CALLER} in flight; analyst served; RSS growth < ${BOUND_MIB} MiB`,
      observed: `${observed}; analyst ${analystMs.length}/${analystMs.length} ok (find ${ms(idleMs)} ms idle, ${ms(analystMs)} ms in the flood); RSS ${baseline}→${peak} MiB${pid ? '' : ' (no pid: compose)'}`,
    });
  });
});

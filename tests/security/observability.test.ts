/**
 * Observability of the real stack (issue #14): the scrape endpoints answer on their loopback listeners inside
 * the edge namespace and nowhere else (not through the edge, not from the client namespace), the counters move
 * with real calls and refusals, no label carries a token, a secret or anything a caller typed, and the verifier's,
 * the MCP server's and the driver's spans, exported to the fixture's collector, join on one trace id, which is
 * nginx's request id.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { curlFromClient, probeFromClient, rawRequest } from '../harness/http.ts';
import { serviceAgentToken } from '../harness/tokens.ts';
import { connectMcp, errorCode } from '../harness/mcp.ts';
import { auditWhere } from '../harness/audit.ts';
import { recordProof } from '../harness/proof.ts';
import { spansOfTrace } from '../harness/otlp-collector.ts';
import { run } from '../../scripts/stack/process.ts';
import { METRICS_PORTS } from '../../contract/contract.ts';
import { samples, total } from '../../dashboards/prom-text.ts';

const m = inject('manifest');
const NO_NETNS = 'the scrape listeners are loopback-only inside the edge netns; under compose that is the proxy container, which the host does not enter';
type Endpoint = keyof typeof m.metrics;

/** A scrape from inside the edge namespace, as Prometheus running there would do it. */
async function scrape(name: Endpoint): Promise<{ status: number; body: string }> {
  const { url, netns } = m.metrics[name];
  const out = await run('curl', ['-s', '--max-time', '5', '-w', '\n%{http_code}', url], { netns });
  const cut = out.lastIndexOf('\n');
  return { status: Number(out.slice(cut + 1)), body: out.slice(0, cut) };
}

const stubRequests = (text: string): number => Number(/\n\s*\d+\s+\d+\s+(\d+)/.exec(text)?.[1] ?? NaN);

const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const roPath = new URL(m.resources.readOnly).pathname;
const rwPath = new URL(m.resources.readWrite).pathname;

describe('the scrape endpoints', () => {
  it('answer 200 on their loopback listener inside the edge namespace, each with its own metric families', async (ctx) => {
    if (!m.metrics.verifier.netns) return ctx.skip(NO_NETNS);
    const [ro, rw, verifier, nginx] = await Promise.all([scrape('mcpReadOnly'), scrape('mcpReadWrite'), scrape('verifier'), scrape('nginx')]);
    for (const r of [ro, rw, verifier, nginx]) expect(r.status).toBe(200);
    for (const r of [ro, rw]) {
      for (const family of [
        'mcp_tool_execution_duration_seconds',
        'mcp_session_created',
        'mcp_session_closed',
        'mcp_active_sessions',
        'mcp_refusals_total',
        'mcp_audit_write_failures_total',
      ]) {
        expect(r.body).toContain(`# TYPE ${family} `);
      }
    }
    expect(ro.body).toContain('server_mode="read-only"');
    expect(rw.body).toContain('server_mode="read-write"');
    expect(verifier.body).toContain('# TYPE verifier_decisions_total counter');
    expect(verifier.body).toContain('# TYPE verifier_jwks_refreshes_total counter');
    expect(nginx.body).toMatch(/^Active connections: \d+/);
    recordProof(ctx, {
      attack: 'scrape each tier (mcp-ro, mcp-rw, verifier, nginx stub_status) on 127.0.0.1 inside the edge netns',
      expected: '200 with the official MCP metric names, verifier decisions, nginx counters',
      observed: `${ro.status}/${rw.status}/${verifier.status}/${nginx.status}`,
    });
  });

  it('are not served through the edge: every scrape path is 404 not_found, a scrape Host is 403 host_not_allowed', async (ctx) => {
    const token = (await serviceAgentToken(m)).access_token;
    for (const path of ['/metrics', '/stub_status', '/nginx_status', '/mcp/metrics', '/healthz']) {
      const r = await rawRequest(m, { path, headers: { authorization: `Bearer ${token}` } });
      expect(r.status, path).toBe(404);
      expect(JSON.parse(r.body)).toEqual({ error: 'not_found' });
    }
    for (const port of Object.values(METRICS_PORTS)) {
      const r = await rawRequest(m, { path: '/metrics', headers: { host: `127.0.0.1:${port}` } });
      expect(r.status).toBe(403);
      expect(JSON.parse(r.body)).toEqual({ error: 'host_not_allowed' });
    }
    recordProof(ctx, {
      attack: 'GET /metrics, /stub_status, /nginx_status at the edge (with a valid token), and with Host 127.0.0.1:<scrape port>',
      expected: '404 not_found; 403 host_not_allowed',
      observed: '404 not_found; 403 host_not_allowed',
    });
  });

  it('cannot be reached from the client namespace: every scrape port on the edge address is closed', async (ctx) => {
    if (!m.clientNetns) return ctx.skip('no client namespace (loopback isolation or compose): nothing stands for the outside world');
    const seen: string[] = [];
    for (const port of Object.values(METRICS_PORTS)) {
      const state = await probeFromClient(m, m.edgeAddressForClient, port);
      expect(state, `edge:${port}`).toBe('closed');
      seen.push(`${port}:${state}`);
    }
    // And the public listener has no scrape path either, from outside.
    expect(await curlFromClient(m, `${m.clientEdgeUrl}/metrics`)).toBe(404);
    recordProof(ctx, {
      attack: `TCP connect from the client netns to ${m.edgeAddressForClient}:${Object.values(METRICS_PORTS).join('/')}`,
      expected: 'closed',
      observed: seen.join(' '),
    });
  });
});

describe('the counters', () => {
  it('move with real calls and refusals: tool latency, refusals by code, verifier decisions by reason (step-up included), sessions, nginx requests', async (ctx) => {
    if (!m.metrics.verifier.netns) return ctx.skip(NO_NETNS);
    const before = { ro: (await scrape('mcpReadOnly')).body, verifier: (await scrape('verifier')).body, nginx: (await scrape('nginx')).body };
    const token = (await serviceAgentToken(m)).access_token;
    const session = await connectMcp(m, m.resources.readOnly, token);
    const during = (await scrape('mcpReadOnly')).body;
    try {
      await session.client.callTool({ name: 'find', arguments: { database: m.database.name, collection: 'orders', limit: 1 } });
      const refused = await session.client.callTool({
        name: 'insert-many',
        arguments: { database: m.database.name, collection: 'orders', documents: [{ x: 1 }] },
      });
      expect(errorCode(refused)).toBe('READ_ONLY');
    } finally {
      await session.close();
    }
    // An anonymous call (401 missing_token) and a read token at the read-write resource (403 step-up).
    const anon = await rawRequest(m, { method: 'POST', path: roPath, headers: mcpHeaders, body: '{}' });
    expect(anon.status).toBe(401);
    const stepUp = await rawRequest(m, { method: 'POST', path: rwPath, headers: { ...mcpHeaders, authorization: `Bearer ${token}` }, body: '{}' });
    expect(stepUp.status).toBe(403);
    const after = { ro: (await scrape('mcpReadOnly')).body, verifier: (await scrape('verifier')).body, nginx: (await scrape('nginx')).body };

    const delta = (which: 'ro' | 'verifier', name: string, labels: Record<string, string>) =>
      total(after[which], name, labels) - total(before[which], name, labels);
    expect(delta('ro', 'mcp_tool_execution_duration_seconds_count', { tool_name: 'find', status: 'success', operation_type: 'read' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(delta('ro', 'mcp_refusals_total', { code: 'READ_ONLY', event: 'tool_call' })).toBeGreaterThanOrEqual(1);
    expect(
      delta('ro', 'mcp_tool_execution_duration_seconds_count', { tool_name: 'insert-many', status: 'error', error_type: 'READ_ONLY' }),
    ).toBeGreaterThanOrEqual(1);
    expect(delta('ro', 'mcp_session_created', {})).toBeGreaterThanOrEqual(1);
    expect(delta('ro', 'mcp_session_closed', { reason: 'transport_closed' })).toBeGreaterThanOrEqual(1);
    expect(total(during, 'mcp_active_sessions')).toBeGreaterThanOrEqual(1);
    expect(delta('verifier', 'verifier_decisions_total', { outcome: 'accept', code: 'ok', route: 'ro' })).toBeGreaterThanOrEqual(3);
    expect(delta('verifier', 'verifier_decisions_total', { outcome: 'refuse', code: 'missing_token', route: 'ro' })).toBeGreaterThanOrEqual(1);
    expect(delta('verifier', 'verifier_decisions_total', { outcome: 'refuse', code: 'missing_scope', route: 'rw' })).toBeGreaterThanOrEqual(1);
    expect(total(after.verifier, 'verifier_jwks_refreshes_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(stubRequests(after.nginx) - stubRequests(before.nginx)).toBeGreaterThanOrEqual(5);
    recordProof(ctx, {
      attack: 'find + insert-many (read-only) on a session, an anonymous call, a read token at /mcp/admin; scrape before and after',
      expected:
        'tool histogram +1 find/success, refusals{READ_ONLY} +1, sessions created/closed +1, verifier ok/missing_token/missing_scope +1, nginx requests grow',
      observed: `find +${delta('ro', 'mcp_tool_execution_duration_seconds_count', { tool_name: 'find', status: 'success' })}, READ_ONLY +${delta('ro', 'mcp_refusals_total', { code: 'READ_ONLY' })}, missing_scope +${delta('verifier', 'verifier_decisions_total', { code: 'missing_scope' })}`,
    });
  });

  it('carry no token, secret or caller input in any label, whatever the caller sends', async (ctx) => {
    if (!m.metrics.verifier.netns) return ctx.skip(NO_NETNS);
    const marker = `obsmarker${Date.now().toString(36)}`;
    const token = (await serviceAgentToken(m)).access_token;
    const session = await connectMcp(m, m.resources.readOnly, token);
    try {
      // Caller text everywhere a label could come from: the tool name, the database, a bogus tool's arguments.
      const unknown = await session.client.callTool({ name: `${marker}-tool`, arguments: { [marker]: marker } });
      expect(errorCode(unknown)).toBe('UNKNOWN_TOOL');
      await session.client.callTool({ name: 'find', arguments: { database: `${marker}db`, collection: marker, filter: { [marker]: 1 } } });
    } finally {
      await session.close();
    }
    await rawRequest(m, {
      method: 'POST',
      path: `${roPath}`,
      headers: { ...mcpHeaders, authorization: `Bearer ${marker}.${marker}.${marker}`, 'x-request-id': marker, 'mcp-name': marker },
      body: '{}',
    });
    await rawRequest(m, {
      method: 'POST',
      path: roPath,
      headers: { ...mcpHeaders, authorization: `Basic ${Buffer.from(`${marker}:${marker}`).toString('base64')}` },
      body: '{}',
    });
    await auditWhere(m.auditLog.readOnly, (l) => l.tool === `${marker}-tool`);

    const secrets = readdirSync(m.secretsDir)
      .map((f) => readFileSync(join(m.secretsDir, f), 'utf8').trim())
      .filter((s) => s.length >= 8);
    const bodies = await Promise.all((Object.keys(m.metrics) as Endpoint[]).map(async (e) => [e, (await scrape(e)).body] as const));
    for (const [endpoint, body] of bodies) {
      expect(body, endpoint).not.toContain(marker);
      expect(body, endpoint).not.toContain(token);
      expect(body, endpoint).not.toContain(token.split('.')[1]);
      for (const s of secrets) expect(body.includes(s), `${endpoint} holds a generated secret`).toBe(false);
      // Every label value is a short identifier from a closed set: no free text fits this shape's length.
      for (const s of samples(body)) for (const [k, v] of Object.entries(s.labels)) expect(v, `${endpoint} ${s.name}{${k}}`).toMatch(/^[\w.:/+-]{0,40}$/);
    }
    const tools = new Set(
      samples(bodies[0]?.[1] ?? '')
        .filter((s) => s.name === 'mcp_tool_execution_duration_seconds_count')
        .map((s) => s.labels.tool_name),
    );
    expect(tools.has('unknown')).toBe(true);
    recordProof(ctx, {
      attack: 'an unknown tool named after a marker, marker database/collection/filter, a marker bearer token, X-Request-Id and Mcp-Name, Basic credentials',
      expected: 'the marker, the token and every generated secret absent from all four scrapes; unknown tools counted as tool_name="unknown"',
      observed: 'absent; tool_name="unknown"',
    });
  });
});

describe('traces', () => {
  // The fixture's collector (global-setup.ts, otlp-collector.ts), to which the stack it started exports.
  const traceQueryUrl = inject('traceQueryUrl');

  it("join edge → verifier → MCP server → driver command on one trace id: nginx's request id", async (ctx) => {
    if (!traceQueryUrl)
      return ctx.skip(
        process.env.STACK_OTLP_TRACES_ENDPOINT
          ? 'STACK_OTLP_TRACES_ENDPOINT names a collector of your own: the spans are there, not in the suite'
          : 'the fixture attached to a running stack (npm start), whose spans go where it was started to send them; let the suite start its own',
      );
    const started = new Date().toISOString();
    const token = (await serviceAgentToken(m)).access_token;
    const session = await connectMcp(m, m.resources.readOnly, token, { traceparent: `00-${'f'.repeat(32)}-${'e'.repeat(16)}-01` });
    try {
      await session.client.callTool({ name: 'find', arguments: { database: m.database.name, collection: 'orders', limit: 1 } });
    } finally {
      await session.close();
    }
    const [record] = await auditWhere(m.auditLog.readOnly, (l) => l.tool === 'find' && String(l.time) >= started);
    const requestId = String(record?.line.requestId);
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    // The tiers send a batch every 5 s (the SDK's default): wait for both ends of the request to arrive.
    const deadline = Date.now() + 20_000;
    let trace = await spansOfTrace(traceQueryUrl, requestId);
    while (Date.now() < deadline && !(trace.some((s) => s.service === 'verifier') && trace.some((s) => s.name === 'mongodb find'))) {
      await new Promise((r) => setTimeout(r, 250));
      trace = await spansOfTrace(traceQueryUrl, requestId);
    }
    const edgeSpanId = requestId.slice(0, 16);
    const verifier = trace.find((s) => s.service === 'verifier');
    const http = trace.find((s) => s.service === 'mcp-ro' && s.name.startsWith('POST'));
    const tool = trace.find((s) => s.name === 'tools/call find');
    const command = trace.find((s) => s.name === 'mongodb find');
    expect(verifier?.parentSpanId).toBe(edgeSpanId);
    expect(verifier?.attributes['verifier.code']).toBe('ok');
    expect(http?.parentSpanId).toBe(edgeSpanId);
    expect(tool?.parentSpanId).toBe(http?.spanId);
    expect(command?.parentSpanId, 'the driver command runs inside the request').toBeDefined();
    expect(trace.map((s) => s.spanId)).toContain(command?.parentSpanId);
    // The client's own traceparent is replaced at the edge, like X-Request-Id.
    expect(await spansOfTrace(traceQueryUrl, 'f'.repeat(32))).toEqual([]);
    recordProof(ctx, {
      attack: 'a tools/call through the edge with a client-chosen traceparent; spans collected by an in-process OTLP/HTTP collector',
      expected: 'verifier, MCP HTTP, tools/call and mongodb command spans share trace id = the audit requestId; the client trace id is dropped',
      observed: `${trace.length} spans on trace ${requestId.slice(0, 8)}…: ${[...new Set(trace.map((s) => `${s.service}:${s.name}`))].join(', ')}`,
    });
  });
});

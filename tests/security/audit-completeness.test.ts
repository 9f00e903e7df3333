/**
 * Audit completeness against the real stack: every tools/call attempt that reaches the MCP server through
 * the edge — malformed ones the protocol layer refuses, a 3,000-deep filter, a 900,000-character name —
 * leaves exactly one record of bounded size; and one join on (requestId, tokenId) finds the verifier's
 * decision and the MCP server's record of the same call.
 */
import { describe, expect, inject, it } from 'vitest';
import { serviceAgentToken } from '../harness/tokens.ts';
import { fetchWithCa } from '../harness/http.ts';
import { auditWhere, readAudit, type AuditLine } from '../harness/audit.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');
/** The MCP server's cap on one audit line (server/src/audit/bounded-record.ts RECORD_MAX_BYTES). */
const RECORD_MAX_BYTES = 4096;
const PROTOCOL = '2025-06-18';

/** A raw 2025-era session through the edge: what a hostile client sends, no SDK client to tidy it up. */
async function rawSession(token: string) {
  const f = fetchWithCa(m.caFile);
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const post = (body: string) => f(m.resources.readOnly, { method: 'POST', headers, body });
  const init = await post(
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'audit-suite', version: '1' } },
    }),
  );
  expect(init.status).toBe(200);
  await init.text();
  const sessionId = init.headers.get('mcp-session-id')!;
  headers['mcp-session-id'] = sessionId;
  headers['mcp-protocol-version'] = PROTOCOL;
  const initialized = await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  expect(initialized.status).toBe(202);
  let id = 1;
  return {
    sessionId,
    /** Sends one tools/call whose params are given as JSON text; returns the HTTP status and the JSON-RPC answer. */
    async call(paramsJson: string) {
      const res = await post(`{"jsonrpc":"2.0","id":${id++},"method":"tools/call","params":${paramsJson}}`);
      return { status: res.status, answer: (await res.json()) as { result?: { structuredContent?: { error?: { code?: string } } }; error?: { code: number } } };
    },
    close: () => f(m.resources.readOnly, { method: 'DELETE', headers }),
  };
}

const deep = (n: number) => '{"$and":['.repeat(n) + '{"status":"x"}' + ']}'.repeat(n);
const ns = (collection: string) => `{"database":${JSON.stringify(m.database.name)},"collection":${JSON.stringify(collection)}}`;

/** The attempts the red-team review found unaudited or oversized, with the record each must leave. */
const ATTEMPTS = [
  {
    what: 'arguments as a string',
    params: `{"name":"find","arguments":"${m.database.name}.movies"}`,
    rpc: -32602,
    outcome: 'refused',
    errorCode: 'INVALID_PARAMS',
  },
  {
    what: 'arguments as an array',
    params: `{"name":"find","arguments":["${m.database.name}","movies"]}`,
    rpc: -32602,
    outcome: 'refused',
    errorCode: 'INVALID_PARAMS',
  },
  { what: 'no name', params: `{"arguments":${ns('movies')}}`, rpc: -32602, outcome: 'refused', errorCode: 'INVALID_PARAMS' },
  {
    what: 'a 3,000-deep filter',
    params: `{"name":"find","arguments":{"database":${JSON.stringify(m.database.name)},"collection":"movies","filter":${deep(3000)}}}`,
    tool: 'INVALID_ARGUMENT',
    outcome: 'refused',
    errorCode: 'INVALID_ARGUMENT',
  },
  {
    what: 'a 900,000-character collection name',
    params: `{"name":"find","arguments":${ns('c'.repeat(900_000))}}`,
    tool: 'INVALID_ARGUMENT',
    outcome: 'refused',
    errorCode: 'INVALID_ARGUMENT',
  },
] as const;

describe('every tools/call attempt is audited once, bounded, and joinable to the edge decision', () => {
  it.for(ATTEMPTS)('leaves exactly one bounded MCP audit record for a tools/call with $what', async (a, ctx) => {
    const token = (await serviceAgentToken(m)).access_token;
    const s = await rawSession(token);
    const r = await s.call(a.params);
    // The refusal itself is exact: the JSON-RPC error for malformed params, the tool's error code otherwise.
    expect(r.status).toBe(200);
    if ('rpc' in a) expect(r.answer.error?.code).toBe(a.rpc);
    else expect(r.answer.result?.structuredContent?.error?.code).toBe(a.tool);
    // The session is new: every tool_call record of it belongs to this one attempt.
    await s.close();
    const mine = (await auditWhere(m.auditLog.readOnly, (l) => l.sessionId === s.sessionId && l.event === 'tool_call')).map((e) => e.raw);
    expect(mine, 'records for this session').toHaveLength(1);
    const rec = JSON.parse(mine[0]!) as AuditLine;
    expect(rec).toMatchObject({ outcome: a.outcome, errorCode: a.errorCode, agent: m.clients.service.id });
    if ('rpc' in a) expect(rec.rpcCode).toBe(a.rpc);
    expect(Buffer.byteLength(mine[0]!)).toBeLessThanOrEqual(RECORD_MAX_BYTES);
    expect(rec.requestId).toMatch(/^[0-9a-f]{32}$/);
    expect(rec.tokenId).toBeTruthy();
    recordProof(ctx, {
      attack: `tools/call with ${a.what} (${a.params.length.toLocaleString('en')} bytes of params) through the edge`,
      expected: `${'rpc' in a ? `JSON-RPC ${a.rpc}` : a.tool}; exactly 1 audit record ≤ ${RECORD_MAX_BYTES} B`,
      observed: `${'rpc' in a ? `JSON-RPC ${r.answer.error?.code}` : r.answer.result?.structuredContent?.error?.code}; ${mine.length} record, ${Buffer.byteLength(mine[0]!)} B, ${rec.outcome}/${rec.errorCode}${rec.truncated ? `, truncated ${JSON.stringify(rec.truncated)}` : ''}`,
    });
  });

  it("joins the verifier's decision and the MCP server's record of one call on requestId and tokenId", async (ctx) => {
    const token = (await serviceAgentToken(m)).access_token;
    const s = await rawSession(token);
    const r = await s.call(`{"name":"list-collections","arguments":{"database":${JSON.stringify(m.database.name)}}}`);
    expect(r.status).toBe(200);
    const call = (await auditWhere(m.auditLog.readOnly, (l) => l.sessionId === s.sessionId && l.event === 'tool_call' && l.tool === 'list-collections')).map(
      (e) => e.line,
    );
    expect(call).toHaveLength(1);
    const { requestId, tokenId } = call[0]!;
    expect(requestId).toMatch(/^[0-9a-f]{32}$/);
    // The verifier batches the lines of one event-loop turn into one write: wait for it rather than sleep.
    await expect.poll(async () => (await readAudit(m.auditLog.verifier)).filter((l) => l.requestId === requestId).length, { timeout: 5_000 }).toBe(1);
    const decision = (await readAudit(m.auditLog.verifier)).find((l) => l.requestId === requestId)!;
    expect(decision).toMatchObject({ outcome: 'accept', code: 'ok', route: 'ro', tokenId, azp: m.clients.service.id, sub: call[0]!.subject });
    await s.close();
    recordProof(ctx, {
      attack: 'one list-collections call; join the verifier log and the MCP audit log on requestId',
      expected: 'one accept decision with the same tokenId and subject as the call record',
      observed: `requestId ${String(requestId).slice(0, 8)}…: verifier ${decision.outcome}/${decision.code}, tokenId equal (${String(tokenId).slice(0, 8)}…)`,
    });
  });
});

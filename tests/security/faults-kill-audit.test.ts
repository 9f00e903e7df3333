/**
 * An MCP server killed in the middle of a WRITE (issue #16, after faults-more's killed read): what the audit trail
 * holds for a call that ran but never finished. The MCP server writes a call's record when the call ends (one record
 * per call), so the dead process leaves none; the call is still on record twice, joined by nginx's request id — the
 * verifier's decision (who, which token, which route) and the edge's access-log line with the 502 it answered — and
 * the database tells how much of the write landed. The fault is bounded; the file ends on a healthy stack.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readAudit } from '../harness/audit.ts';
import { rawRequest } from '../harness/http.ts';
import { currentManifest, readManifest } from '../harness/manifest.ts';
import { recordProof } from '../harness/proof.ts';
import { waitForHealthyStack } from '../harness/stack-health.ts';
import { userToken } from '../harness/tokens.ts';
import { alive } from '../../scripts/stack/leftovers.ts';
import { waitFor } from '../../scripts/stack/process.ts';

const m = inject('manifest');
const supervised = m.runtime === 'native' && Object.keys(m.pids ?? {}).length > 0;
const NOT_NATIVE = 'compose runtime: the engine, not the native supervisor, runs the tiers (no tier pids in the manifest)';
const PROTOCOL = '2025-06-18';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const db = m.database.name;

describe('an MCP server killed mid-write', () => {
  afterAll(async () => {
    if (!supervised) return;
    await waitForHealthyStack('the stack healthy again after the kill');
  }, 150_000);

  it('leaves the killed write on record as started at the MCP tier, and at the verifier and the edge (502), joined by request id, and says how much of it landed', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const before = (await currentManifest()).pids!;
    const token = (await userToken(m, 'operator', 'mcp:read mcp:write')).access_token;
    const route = new URL(m.resources.readWrite).pathname;
    const headers: Record<string, string> = { ...HEADERS, authorization: `Bearer ${token}` };
    const post = (body: unknown) => rawRequest(m, { method: 'POST', path: route, headers, body: JSON.stringify(body) });
    const init = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'faults-kill-audit', version: '1' } },
    });
    expect(init.status).toBe(200);
    Object.assign(headers, { 'mcp-session-id': init.headers['mcp-session-id'] as string, 'mcp-protocol-version': PROTOCOL });
    expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202);
    const collection = `faults_write_${randomUUID().slice(0, 8)}`;
    const marker = randomUUID();
    // An insert-many (a bulk write that needs no approval) of its maximum 1,000 documents, ~0.8 MiB (under the edge's 1 MiB): FerretDB
    // 1.x writes it document by document, for seconds. Calibrated once; the database itself is read with the driver
    // (admin URI), so neither the count nor the clean-up depends on the server being killed.
    const insert = (tag: string) =>
      post({
        jsonrpc: '2.0',
        id: randomUUID(),
        method: 'tools/call',
        params: {
          name: 'insert-many',
          arguments: { database: db, collection, documents: Array.from({ length: 1_000 }, (_, i) => ({ i, tag, pad: 'x'.repeat(800) })) },
        },
      });
    const mongo = new MongoClient(m.database.uri, { serverSelectionTimeoutMS: 10_000 });
    try {
      const t0 = Date.now();
      const calibration = await insert('calibration');
      const calibrated = Date.now() - t0;
      expect(calibration.status).toBe(200);
      expect(calibration.body).not.toContain('"isError":true');
      const docs = 1_000; // insert-many's own bound
      const sentAt = Date.now();
      const inFlight = insert(marker);
      const killedAfterMs = Math.min(500, Math.round(calibrated / 3));
      await new Promise((r) => setTimeout(r, killedAfterMs));
      process.kill(before['mcp-rw']!, 'SIGKILL');
      const killedAt = Date.now();
      const answer = await inFlight;
      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.body)).toEqual({ error: 'upstream_unavailable' });
      await waitFor(
        'mcp-rw restarted by the supervisor',
        async () => {
          const pid = (await readManifest())?.pids?.['mcp-rw'];
          return pid !== undefined && pid !== before['mcp-rw'] && alive(pid);
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      // The verifier's decision for the killed call: the one record of this token between sending and the kill.
      const sha12 = createHash('sha256').update(token).digest('hex').slice(0, 12);
      const decided = await waitFor(
        'the verifier record of the killed call',
        async () => {
          const inWindow = (await readAudit(m.auditLog.verifier)).filter(
            (l) => l.tokenSha256 === sha12 && Date.parse(String(l.ts)) >= sentAt && Date.parse(String(l.ts)) <= killedAt,
          );
          return inWindow.length === 1 ? inWindow[0] : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 100 },
      );
      const requestId = String(decided.requestId);
      // The edge's line for the same request id: the answer the caller got.
      const edgeLine = await waitFor(
        'the access-log line of the killed call',
        async () => {
          const text = await readFile(m.logs.nginxAccess!, 'utf8').catch(() => '');
          const line = text
            .split('\n')
            .filter((l) => l.includes(`"request_id":"${requestId}"`))
            .map((l) => JSON.parse(l) as { status: number; path: string; upstream_status: string; auth_subject: string })[0];
          return line;
        },
        { timeoutMs: 5_000, intervalMs: 100 },
      );
      // The MCP tier put the write on record before it ran (tool_call_started); the process died before the
      // call's end record (tool_call) could be written.
      const mcpRecords = (await readAudit(m.auditLog.readWrite)).filter((l) => l.requestId === requestId);
      // How much of the write landed: documents carrying the marker.
      const landed = await mongo.db(db).collection(collection).countDocuments({ tag: marker });
      expect(decided).toMatchObject({ outcome: 'accept', code: 'ok', route: 'rw' });
      expect(edgeLine).toMatchObject({ status: 502, path: route });
      // No end record; and a write that reached the database was on record before it ran. (A kill that came
      // before the server reached the tool leaves nothing in the database, and may leave no record either.)
      expect(mcpRecords.filter((l) => l.event !== 'tool_call_started')).toEqual([]);
      if (landed > 0)
        expect(mcpRecords.map((l) => [l.event, l.outcome, l.tool, l.username])).toEqual([['tool_call_started', 'started', 'insert-many', 'operator']]);
      expect(Number.isInteger(landed)).toBe(true);
      recordProof(ctx, {
        attack: `SIGKILL the read-write MCP server ${killedAfterMs} ms into an insert-many of ${docs} documents that takes ${secs(calibrated)}`,
        expected:
          "the caller gets 502 upstream_unavailable; the call stays on record: the verifier's accept (subject, token, route) and the edge's 502 line, joined by request id; the MCP tier's tool_call_started record (written before the write ran) and no end record; how much of the write landed is reported",
        observed: `502 upstream_unavailable; verifier ${decided.outcome}/${decided.code} route ${decided.route} sub ${String(decided.sub).slice(0, 8)}…, access log status ${edgeLine.status} upstream_status "${edgeLine.upstream_status}" for the same request id; MCP records with that id: ${mcpRecords.map((l) => l.event).join(', ')}; ${landed} of the ${docs} documents of the killed write are in the database (${landed === 0 ? 'nothing landed' : landed === docs ? 'all of it landed, on record as started' : 'a PARTIAL write landed, on record as started'})`,
      });
    } finally {
      await mongo
        .db(db)
        .collection(collection)
        .drop()
        .catch(() => undefined);
      await mongo.close();
      await rawRequest(m, { method: 'DELETE', path: route, headers }).catch(() => undefined);
    }
  }, 180_000);
});

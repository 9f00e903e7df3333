/**
 * More faults injected for real into the running native stack (issue 16), after tests/security/faults.test.ts:
 * a full disk under an MCP server's audit log, nginx reloaded under load, an MCP server killed while a call is
 * in flight, and a signing-key rotation in Keycloak. Each fault is bounded in time and undone in `finally`; the
 * file ends by waiting for a fully healthy stack. Timings are reported in the proof table, never asserted.
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readAudit } from '../harness/audit.ts';
import { rawMcpSession, rawRequest, type RawResponse } from '../harness/http.ts';
import { keycloakAdmin } from '../harness/keycloak-admin.ts';
import { currentManifest as current, readManifest } from '../harness/manifest.ts';
import { approveAll, connectMcp, errorCode as toolCode, resultText } from '../harness/mcp.ts';
import { recordProof } from '../harness/proof.ts';
import { openAndEnd, waitForHealthyStack } from '../harness/stack-health.ts';
import { serviceAgentToken, userToken } from '../harness/tokens.ts';
import { alive } from '../../scripts/stack/leftovers.ts';
import { run, waitFor } from '../../scripts/stack/process.ts';

const m = inject('manifest');
const NOT_NATIVE = 'compose runtime: the engine, not the native supervisor, runs the tiers (no tier pids in the manifest)';
// The compose manifest carries an empty pids map: only the native runtime has tiers this suite can signal.
const supervised = m.runtime === 'native' && Object.keys(m.pids ?? {}).length > 0;
const edgePath = (url: string) => new URL(url).pathname;
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const db = m.database.name;
const edgeError = (r: RawResponse) => {
  try {
    return (JSON.parse(r.body) as { error?: string }).error;
  } catch {
    return undefined;
  }
};

/** A raw 2025-era session that must open (200, then 202 for notifications/initialized). */
async function rawSession(route: string, token: string) {
  const s = await rawMcpSession(m, route, token, 'faults-more');
  expect(s.status).toBe(200);
  expect(s.initialized).toBe(202);
  return s;
}

const opens = (route: string, token: string) => openAndEnd(m, route, token);

/** Runs a command in the mount namespace of `pid` (the tier's own view of the filesystem). */
const inMountNs = (pid: number, script: string) => run('nsenter', ['-t', String(pid), '-m', '--', 'sh', '-euc', script]);

describe('more faults: a full audit disk, nginx reloads, a kill mid-call, a key rotation', () => {
  afterAll(async () => {
    if (!supervised) return;
    await waitForHealthyStack('the stack healthy again after the faults');
  }, 150_000);

  it('fails calls closed with AUDIT_UNAVAILABLE while the audit disk is full, runs none of them, and recovers once space is back', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    if (process.getuid?.() !== 0) return ctx.skip("mounting a tmpfs in the MCP server's mount namespace needs root");
    const pid = (await current()).pids!['mcp-rw']!;
    const log = m.auditLog.readWrite;
    // The server keeps its audit file open, but stats the path before each write and reopens it when the path names
    // another file (rotation): a small tmpfs file bind-mounted over the path becomes its audit log at once.
    const dir = await mkdtemp(join(tmpdir(), 'mcps-faults-audit-'));
    const seen = (p: string) => `/proc/${pid}/root${p}`; // the server's own view of a path (its mount namespace)
    const collection = `faults_audit_${randomUUID().slice(0, 8)}`;
    const refusedMarker = randomUUID();
    const okMarker = randomUUID();
    const operator = (await userToken(m, 'operator', 'mcp:read mcp:write')).access_token;
    // approveAll: the drop-collection that cleans up needs the user's approval (server/src/approvals/*).
    const s = await connectMcp(m, m.resources.readWrite, operator, {}, { elicit: approveAll });
    const insert = (marker: string) => s.client.callTool({ name: 'insert-many', arguments: { database: db, collection, documents: [{ marker }] } });
    const count = async (marker: string) =>
      Number(
        /Found (\d+) documents/.exec(resultText(await s.client.callTool({ name: 'count', arguments: { database: db, collection, query: { marker } } })))?.[1],
      );
    let mounted = false;
    let carried = '';
    try {
      // A bind mount needs its target to exist: on a fresh stack the server creates its log only with its first record.
      await inMountNs(
        pid,
        `{ [ -e ${log} ] || install -m 0600 /dev/null ${log}; } && mount -t tmpfs -o size=256k,mode=0700 mcps-faults-audit ${dir} && install -m 0600 /dev/null ${dir}/audit.jsonl && mount --bind ${dir}/audit.jsonl ${log}`,
      );
      mounted = true;
      // Redirected: a call's record lands on the small filesystem.
      expect((await s.client.callTool({ name: 'list-collections', arguments: { database: db } })).isError).toBeFalsy();
      expect((await readAudit(seen(log))).map((l) => l.tool)).toEqual(['list-collections']);
      // Full: fill every block (dd ends with "No space left on device").
      // Down to the last block (4 KiB pages): not even the record of a refusal fits.
      const free = (
        await inMountNs(
          pid,
          `for bs in 64k 4k 512; do dd if=/dev/zero of=${dir}/fill.$bs bs=$bs 2>/dev/null || true; done; df -P ${dir} | awk 'NR==2{print $4}'`,
        )
      ).trim();
      expect(free).toBe('0');
      const before = (await readFile(seen(log), 'utf8')).length;
      // The refusals' own records still fit in the slack of the file's last page; once that is used up they are lost
      // (the server says so on stderr) and the calls are refused all the same. Bounded: 40 attempts.
      const t0 = Date.now();
      const refused: unknown[] = [];
      let size = before;
      for (let unchanged = 0; unchanged < 3 && refused.length < 40; ) {
        refused.push(await insert(refusedMarker));
        const now = (await readFile(seen(log), 'utf8')).length;
        unchanged = now === size ? unchanged + 1 : 0;
        size = now;
      }
      const refusedRead = await s.client.callTool({ name: 'find', arguments: { database: db, collection: 'orders', filter: {}, limit: 1 } });
      const refusedMs = Date.now() - t0;
      expect(refused.map(toolCode)).toEqual(refused.map(() => 'AUDIT_UNAVAILABLE'));
      expect(toolCode(refusedRead), resultText(refusedRead)).toBe('AUDIT_UNAVAILABLE');
      // What did reach the file is whole lines, every one a refusal: no half line, no call that ran.
      const full = await readFile(seen(log), 'utf8');
      expect(full.endsWith('\n')).toBe(true);
      const during = (await readAudit(seen(log))).slice(1);
      expect(during.every((l) => l.outcome === 'error' && l.errorCode === 'AUDIT_UNAVAILABLE')).toBe(true);
      const lost = refused.length + 1 - during.length;
      expect(lost).toBeGreaterThan(0);
      // Space back: the next call runs and is audited, with no restart.
      await inMountNs(pid, `rm -f ${dir}/fill.*`);
      const recovered = await insert(okMarker);
      expect(recovered.isError, resultText(recovered)).toBeFalsy();
      const records = await readAudit(seen(log));
      // The server said why, once when the log failed and once when it recovered (not once per refused call).
      const stderrLines = async () =>
        (await readFile(join(dirname(log), 'mcp-rw.log'), 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('audit:'));
      await expect.poll(async () => (await stderrLines()).length, { timeout: 5_000 }).toBe(2);
      const stderr = await stderrLines();
      expect(stderr[0]).toMatch(/^audit: the audit log cannot be written \(.+\): calls fail closed with AUDIT_UNAVAILABLE$/);
      expect(stderr[1]).toBe(`audit: the audit log is writable again (${refused.length + 1 - during.length} records of refused calls lost meanwhile)`);
      expect(records.at(-1)).toMatchObject({ tool: 'insert-many', outcome: 'ok', errorCode: null, namespace: `${db}.${collection}` });
      // The refused insert never reached the database; the one after recovery did.
      expect(await count(refusedMarker)).toBe(0);
      expect(await count(okMarker)).toBe(1);
      expect((await current()).pids!['mcp-rw']).toBe(pid);
      recordProof(ctx, {
        attack:
          "fill the filesystem under the read-write MCP server's audit log (a 256 KiB tmpfs bind-mounted over it in the server's mount namespace), call insert-many and find",
        expected:
          'every call refused AUDIT_UNAVAILABLE before it runs (the document never reaches the database), also once not even the refusal record fits; only whole lines; after space is freed the next call runs and is audited, no restart',
        observed: `${refused.length} insert-many + 1 find, all ${toolCode(refusedRead)} (${refusedMs} ms in all) with ${free} KiB free; ${during.length} refusal records fitted the last page, ${lost} lost (server stderr: "${stderr[0]}", then "${stderr[1]}"); refused document count ${await count(refusedMarker)}; after rm: insert-many ok and audited, pid unchanged`,
      });
      carried = await readFile(seen(log), 'utf8');
    } finally {
      if (mounted) await inMountNs(pid, `umount -l ${log}; umount -l ${dir}`).catch((e: unknown) => console.error(`faults-more: unmount failed: ${String(e)}`));
      // The records written to the tmpfs belong to the real log: carry them over (the server is idle; this file runs alone).
      if (carried) await appendFile(log, carried);
      await rm(dir, { recursive: true, force: true });
      await s.client.callTool({ name: 'drop-collection', arguments: { database: db, collection } }).catch(() => undefined);
      await s.close();
    }
  }, 90_000);

  it('serves every request while nginx is reloaded several times under load; a kept-alive connection closed by the reload fails before reaching any tier', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const nginxPid = (await current()).pids!.nginx!;
    const route = edgePath(m.resources.readOnly);
    // Three callers (quotas are per subject + client), three loops each: under 4 requests in flight per caller.
    const tokens = [
      (await serviceAgentToken(m)).access_token,
      (await userToken(m, 'analyst', 'mcp:read')).access_token,
      (await userToken(m, 'operator', 'mcp:read')).access_token,
    ];
    const RELOADS = 5;
    // Per caller: two loops opening a connection per request (a proxy or a short-lived client) and one MCP SDK
    // session on a kept-alive connection (an agent): the reload closes idle kept-alive connections.
    const fresh = await Promise.all(tokens.flatMap((t) => [rawSession(route, t), rawSession(route, t)]));
    const kept = await Promise.all(tokens.map((t) => connectMcp(m, m.resources.readOnly, t)));
    const freshResult = { ok: 0, failed: [] as string[] };
    const keptResult = { ok: 0, failed: [] as string[], sessions: kept.map((k) => k.transport.sessionId) };
    let stop = false;
    const freshLoop = async (s: Awaited<ReturnType<typeof rawSession>>) => {
      while (!stop) {
        try {
          const r = await s.call('list-collections', { database: db });
          if (r.status === 200 && !r.body.includes('"isError":true')) freshResult.ok++;
          else freshResult.failed.push(`${r.status} ${r.body.slice(0, 120)}`);
        } catch (e) {
          freshResult.failed.push(String((e as Error).message).slice(0, 120));
        }
      }
    };
    const keptLoop = async (s: (typeof kept)[number]) => {
      while (!stop) {
        try {
          const r = await s.client.callTool({ name: 'list-collections', arguments: { database: db } });
          if (r.isError) keptResult.failed.push(`tool error ${toolCode(r)}`);
          else keptResult.ok++;
        } catch (e) {
          const cause = (e as { cause?: { code?: string; message?: string } }).cause;
          keptResult.failed.push(`${(e as Error).message}: ${cause?.code ?? cause?.message ?? '?'}`);
        }
      }
    };
    const auditedBefore = (await readAudit(m.auditLog.readOnly)).length;
    const t0 = Date.now();
    const loops = [...fresh.map(freshLoop), ...kept.map(keptLoop)];
    try {
      for (let i = 0; i < RELOADS; i++) {
        await new Promise((r) => setTimeout(r, 700));
        process.kill(nginxPid, 'SIGHUP'); // what `nginx -s reload` sends the master
      }
      await new Promise((r) => setTimeout(r, 700));
    } finally {
      stop = true;
      await Promise.all(loops);
      await Promise.all([...fresh.map((s) => s.close()), ...kept.map((s) => s.close())]);
    }
    const ms = Date.now() - t0;
    const audited = (await readAudit(m.auditLog.readOnly)).slice(auditedBefore).filter((l) => l.event === 'tool_call' && l.tool === 'list-collections');
    const keptAudited = audited.filter((l) => keptResult.sessions.includes(l.sessionId as string)).length;
    expect(freshResult.failed).toEqual([]);
    expect(freshResult.ok).toBeGreaterThan(0);
    // A kept-alive request that failed did so on a connection the old worker closed before reading it: it reached no
    // tier (the MCP audit holds exactly the calls that were answered), and a client may safely send it again.
    expect(
      keptResult.failed.every((f) => /fetch failed: (UND_ERR_SOCKET|ECONNRESET|EPIPE|other side closed)/.test(f)),
      keptResult.failed.join('\n'),
    ).toBe(true);
    expect(keptAudited).toBe(keptResult.ok);
    expect(audited.length).toBe(freshResult.ok + keptResult.ok);
    expect((await current()).pids!.nginx).toBe(nginxPid);
    recordProof(ctx, {
      attack: `${fresh.length} callers on a new connection per request and ${kept.length} MCP SDK sessions on kept-alive connections (3 identities) calling list-collections through the edge while the nginx master gets SIGHUP (reload) ${RELOADS} times`,
      expected:
        'zero failed requests on new connections; a kept-alive connection closed by a reload fails only before the request reached any tier (audit == answered calls); the same master keeps serving',
      observed: `new connections: ${freshResult.ok} ok, ${freshResult.failed.length} failed; kept-alive: ${keptResult.ok} ok, ${keptResult.failed.length} closed by the reload (${[...new Set(keptResult.failed)].join('; ') || 'none'}); MCP audit records ${audited.length} = answered calls; ${secs(ms)}; master pid unchanged`,
    });
  }, 90_000);

  it('answers 502 upstream_unavailable to a call in flight when its MCP server is killed, restarts it, and keeps the audit of every call that ran', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const before = (await current()).pids!;
    // A person: the policy lets machine identities read only shop.orders and shop.products (policies/mcp-ro.cedar).
    const token = (await userToken(m, 'analyst', 'mcp:read')).access_token;
    const s = await rawSession(edgePath(m.resources.readOnly), token);
    // A read that takes seconds on FerretDB 1.x (aggregation in its own process, no $range/$lookup): documents with a
    // 200-element array unwound and grouped. The collection is written through mcp-rw and grown until one call is slow.
    const operator = await connectMcp(
      m,
      m.resources.readWrite,
      (await userToken(m, 'operator', 'mcp:read mcp:write')).access_token,
      {},
      { elicit: approveAll },
    );
    const collection = `faults_slow_${randomUUID().slice(0, 8)}`;
    const slow = () =>
      s.call('aggregate', {
        database: db,
        collection,
        pipeline: [{ $unwind: '$a' }, { $group: { _id: '$a', n: { $sum: 1 } } }, { $sort: { n: -1 } }, { $limit: 1 }],
      });
    const batch = Array.from({ length: 400 }, (_, i) => ({ i, a: Array.from({ length: 200 }, (_, j) => (i * 7 + j) % 1000) }));
    let docs = 0;
    let calibrated = 0;
    const completed: string[] = [];
    try {
      for (;;) {
        for (let k = 0; k < 2; k++) {
          const w = await operator.client.callTool({ name: 'insert-many', arguments: { database: db, collection, documents: batch } });
          expect(w.isError, resultText(w)).toBeFalsy();
          docs += batch.length;
        }
        const t0 = Date.now();
        const r = await slow();
        calibrated = Date.now() - t0;
        expect(r.status).toBe(200);
        expect(r.body, r.body.slice(0, 300)).not.toContain('"isError":true');
        completed.push('aggregate');
        if (calibrated >= 1_500 || docs >= 16_000) break;
      }
      const sentAt = Date.now();
      const inFlight = slow();
      const killedAfterMs = Math.min(500, Math.round(calibrated / 3));
      await new Promise((r) => setTimeout(r, killedAfterMs));
      process.kill(before['mcp-ro']!, 'SIGKILL');
      const killedAt = Date.now();
      const answer = await inFlight;
      const answerMs = Date.now() - killedAt;
      expect(answer.status).toBe(502);
      expect(edgeError(answer)).toBe('upstream_unavailable');
      const restarted = await waitFor(
        'mcp-ro restarted by the supervisor',
        async () => {
          const now = await readManifest();
          const pid = now?.pids?.['mcp-ro'];
          return pid && pid !== before['mcp-ro'] && alive(pid) ? now : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      const restartMs = Date.now() - killedAt;
      // The dead process's session is gone: 404 tells the client to initialise again; a new session is served.
      const stale = await s.call('list-collections', { database: db });
      expect(stale.status).toBe(404);
      const fresh = await rawSession(edgePath(m.resources.readOnly), token);
      const again = await fresh.call('list-collections', { database: db });
      expect(again.status).toBe(200);
      await fresh.close();
      // Every call that ran to an answer has its record in the MCP audit log; the killed one has its verifier decision.
      const records = (await readAudit(m.auditLog.readOnly)).filter((l) => l.sessionId === s.sessionId && l.event === 'tool_call');
      expect(records.map((l) => l.tool)).toEqual(completed);
      expect(records.every((l) => l.outcome === 'ok')).toBe(true);
      // The killed call reached the MCP tier through the verifier: its decision is the one of this token in the window.
      const sha12 = createHash('sha256').update(token).digest('hex').slice(0, 12);
      const inWindow = async () =>
        (await readAudit(m.auditLog.verifier)).filter(
          (l) => l.tokenSha256 === sha12 && Date.parse(String(l.ts)) >= sentAt && Date.parse(String(l.ts)) <= killedAt,
        );
      await expect.poll(async () => (await inWindow()).length, { timeout: 5_000 }).toBe(1);
      const decided = (await inWindow())[0]!;
      expect(decided).toMatchObject({ outcome: 'accept', code: 'ok', route: 'ro' });
      expect({ ...restarted.pids, 'mcp-ro': 0 }).toEqual({ ...before, 'mcp-ro': 0 });
      recordProof(ctx, {
        attack: `SIGKILL the read-only MCP server ${killedAfterMs} ms into an aggregate that takes ${secs(calibrated)} (${docs} documents × 200 unwound)`,
        expected:
          'the caller gets 502 upstream_unavailable (no hang, no partial answer); mcp-ro restarted alone; its session 404; every completed call audited',
        observed: `${answer.status} ${edgeError(answer)} ${answerMs} ms after the kill; pid ${before['mcp-ro']} → ${restarted.pids!['mcp-ro']} healthy ${secs(restartMs)} after the kill; old session ${stale.status}, new session 200; ${records.length}/${completed.length} completed calls audited; the killed call: no MCP record (it never finished), its verifier record ${decided.outcome}/${decided.code} (route ${decided.route})`,
      });
    } finally {
      await operator.client.callTool({ name: 'drop-collection', arguments: { database: db, collection } }).catch(() => undefined);
      await operator.close();
      await s.close();
    }
  }, 120_000);

  it('restarts a SIGKILLed nginx master alone: its orphaned workers are killed with it, and the edge serves again', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const before = (await current()).pids!;
    const route = edgePath(m.resources.readOnly);
    const token = (await serviceAgentToken(m)).access_token;
    expect(await opens(route, token)).toBe(200);
    // The master alone, as the OOM killer would pick it: its workers live on, orphaned, holding the listening socket.
    process.kill(before.nginx!, 'SIGKILL');
    const killedAt = Date.now();
    // Meanwhile a caller sees either an orphaned worker's answer or a refused connection, never a hang.
    const during = await opens(route, token).then(
      (s) => String(s),
      (e: unknown) => (e as NodeJS.ErrnoException).code ?? String(e),
    );
    const restarted = await waitFor(
      'nginx restarted by the supervisor',
      async () => {
        const now = await readManifest();
        const pid = now?.pids?.nginx;
        return pid && pid !== before.nginx && alive(pid) ? now : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const restartMs = Date.now() - killedAt;
    const after = await opens(route, (await serviceAgentToken(m)).access_token);
    expect(during).toMatch(/^(200|ECONNREFUSED|ECONNRESET)$/);
    expect(after).toBe(200);
    expect({ ...restarted.pids, nginx: 0 }).toEqual({ ...before, nginx: 0 });
    recordProof(ctx, {
      attack: 'SIGKILL the nginx master alone (its workers orphaned, still holding the listening socket)',
      expected: 'the supervisor kills the old process group and starts nginx alone; no other tier restarted; a new token served end to end after',
      observed: `a call during the outage: ${during}; pid ${before.nginx} → ${restarted.pids!.nginx} serving ${secs(restartMs)} after the kill; other pids unchanged; new token + session 200`,
    });
  }, 90_000);

  it('accepts tokens of a new signing key without a verifier restart and old ones until their key is removed, then refuses them 401 unknown_kid', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const api = await keycloakAdmin(m);
    if (!api) return ctx.skip('no Keycloak admin listener in the manifest');
    const verifierPid = (await current()).pids!.verifier!;
    const realmId = ((await (await api('')).json()) as { id: string }).id;
    type Component = { id: string; name: string; providerId: string; config: Record<string, string[]> };
    const providers = (await (await api(`/components?parent=${realmId}&type=org.keycloak.keys.KeyProvider`)).json()) as Component[];
    // The RS256 providers signing today: kept exactly as they are, restored in finally.
    const oldRs = providers.filter((p) => p.providerId === 'rsa-generated' || p.providerId === 'rsa');
    const rsOld = oldRs.filter((p) => (p.config.algorithm?.[0] ?? 'RS256') === 'RS256');
    expect(rsOld.length).toBeGreaterThan(0);
    const setConfig = (p: Component, change: Record<string, string[]>) =>
      api(`/components/${p.id}`, { method: 'PUT', body: JSON.stringify({ ...p, config: { ...p.config, ...change } }) });
    const route = edgePath(m.resources.readOnly);
    // Accepted or refused by the verifier, without opening a session: accepted ones reach the server (4xx, no session).
    const decide = (token: string) =>
      rawRequest(m, {
        method: 'POST',
        path: route,
        headers: { ...mcpHeaders, authorization: `Bearer ${token}` },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    const sha12 = (jwt: string) => createHash('sha256').update(jwt).digest('hex').slice(0, 12);
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    // A token naming a kid nobody has: what makes the verifier refresh its key set (at most once per interval).
    const unknownKid = () => `${b64({ alg: 'RS256', typ: 'JWT', kid: `faults-probe-${randomUUID()}` })}.${b64({ sub: 'probe' })}.${b64('x')}`;
    let newId: string | undefined;
    try {
      const oldToken = (await serviceAgentToken(m)).access_token;
      expect(await opens(route, oldToken)).toBe(200);
      // Rotate: a new active RS256 key with a higher priority signs from now on; the old ones stay as passive keys.
      const created = await api('/components', {
        method: 'POST',
        body: JSON.stringify({
          name: `faults-rotation-${randomUUID().slice(0, 8)}`,
          providerId: 'rsa-generated',
          providerType: 'org.keycloak.keys.KeyProvider',
          parentId: realmId,
          config: { priority: ['1000'], enabled: ['true'], active: ['true'], algorithm: ['RS256'], keySize: ['2048'] },
        }),
      });
      expect(created.status).toBe(201);
      newId = created.headers.get('location')!.split('/').pop()!;
      for (const p of rsOld) expect((await setConfig(p, { active: ['false'] })).status).toBe(204);
      const newToken = (await serviceAgentToken(m)).access_token;
      expect(kidOf(newToken)).not.toBe(kidOf(oldToken));
      // The first unknown kid refreshes the verifier's key set at once, unless another refresh happened within the
      // last VERIFIER_JWKS_REFRESH_MS (an earlier suite's): then the next permitted one does. No restart either way.
      const t0 = Date.now();
      const firstTry = await opens(route, newToken);
      const newAccepted =
        firstTry === 200
          ? 200
          : await waitFor('the new key learnt by the verifier', async () => (await opens(route, newToken)) === 200 && 200, {
              timeoutMs: 40_000,
              intervalMs: 1_000,
            });
      const newMs = Date.now() - t0;
      const oldStill = await opens(route, oldToken);
      expect(newAccepted).toBe(200);
      expect(oldStill).toBe(200);
      // Remove the old keys from the key set (disabled, so finally can restore the realm's exact keys).
      for (const p of rsOld) expect((await setConfig(p, { enabled: ['false'], active: ['false'] })).status).toBe(204);
      const jwks = (await (await fetch(`${m.keycloakInternalUrl}/realms/mcp/protocol/openid-connect/certs`)).json()) as { keys: { kid: string }[] };
      expect(jwks.keys.map((k) => k.kid)).not.toContain(kidOf(oldToken));
      expect(jwks.keys.map((k) => k.kid)).toContain(kidOf(newToken));
      // The verifier keeps the old key until it refreshes its key set (the next unknown kid once the refresh interval,
      // VERIFIER_JWKS_REFRESH_MS = 30 s, has passed, or at the latest after 10 min) and a verified token for its cache
      // TTL (30 s). Reported at once, then driven the way traffic would: an unknown kid now and then.
      const rightAfter = (await decide(oldToken)).status;
      const removedAt = Date.now();
      const oldRefused = await waitFor(
        'the old token refused after a key-set refresh',
        async () => {
          await decide(unknownKid());
          const r = await decide(oldToken);
          return r.status === 401 ? r : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 2_000 },
      );
      const refusedMs = Date.now() - removedAt;
      expect(oldRefused.status).toBe(401);
      expect(String(oldRefused.headers['www-authenticate'])).toContain('invalid_token');
      const reason = await waitFor(
        'the verifier record of the refusal',
        async () => (await readAudit(m.auditLog.verifier)).find((l) => l.outcome === 'refuse' && l.tokenSha256 === sha12(oldToken)),
        { timeoutMs: 5_000, intervalMs: 100 },
      );
      expect(reason.code).toBe('unknown_kid');
      expect(await opens(route, newToken)).toBe(200);
      expect((await current()).pids!.verifier).toBe(verifierPid);
      recordProof(ctx, {
        attack:
          'rotate the realm signing key through the Keycloak admin API (new active RS256 key, priority 1000; old keys passive), then disable the old keys',
        expected:
          'new tokens accepted without a verifier restart (one JWKS refresh on the unknown kid); old tokens accepted while passive; once removed, old tokens 401 invalid_token (verifier reason unknown_kid)',
        observed: `new token ${firstTry === 200 ? '200 at once' : `${firstTry} first (refresh rate limit), then 200`} (${newMs} ms), old token 200 while passive; after removal: old token still accepted at once (${rightAfter}, cached key set and token), 401 invalid_token / unknown_kid ${secs(refusedMs)} after removal (next permitted refresh); new token still 200; verifier pid unchanged`,
      });
    } finally {
      // Restore the realm's keys exactly: the old providers active and enabled again, the new one deleted.
      for (const p of rsOld) await setConfig(p, { enabled: p.config.enabled ?? ['true'], active: p.config.active ?? ['true'] }).catch(() => undefined);
      if (newId) await api(`/components/${newId}`, { method: 'DELETE' }).catch(() => undefined);
    }
  }, 150_000);
});

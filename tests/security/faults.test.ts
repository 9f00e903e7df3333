/**
 * Faults injected for real into the running native stack: a tier killed (SIGKILL) or frozen (SIGSTOP), and
 * what callers observe at the edge meanwhile. The supervisor (scripts/stack/supervisor.ts) must bring a killed
 * tier back alone, with the others serving throughout. Every fault is undone in `finally`, and the file ends
 * by waiting for a fully healthy stack, so the suites after it run against what they expect.
 * Timings are reported in the proof table, never asserted.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readAudit } from '../harness/audit.ts';
import { rawRequest, type RawResponse } from '../harness/http.ts';
import { currentManifest as current, readManifest, type StackManifest } from '../harness/manifest.ts';
import { connectMcp, resultText } from '../harness/mcp.ts';
import { recordProof } from '../harness/proof.ts';
import { waitForHealthyStack } from '../harness/stack-health.ts';
import { serviceAgentToken, userToken } from '../harness/tokens.ts';
import { alive } from '../../scripts/stack/leftovers.ts';
import { run, waitFor } from '../../scripts/stack/process.ts';

const m = inject('manifest');
const NOT_NATIVE = 'compose runtime: the engine, not the native supervisor, runs the tiers (no tier pids in the manifest)';
// The compose manifest carries an empty pids map: only the native runtime has tiers this suite can signal.
const supervised = m.runtime === 'native' && Object.keys(m.pids ?? {}).length > 0;
const edgePath = (url: string) => new URL(url).pathname;
const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
// A 2025-era protocol version: the server keeps a session for it, in the memory of one process.
const PROTOCOL = '2025-06-18';
const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'faults', version: '1' } },
});
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const post = (path: string, token: string, body = initialize, headers: Record<string, string> = {}): Promise<RawResponse> =>
  rawRequest(m, { method: 'POST', path, headers: { ...mcpHeaders, authorization: `Bearer ${token}`, ...headers }, body });

/** Waits until `tier` runs under a new pid (recorded once healthy) and returns the manifest and the wait. */
async function restartedFrom(tier: string, oldPid: number, since: number): Promise<{ manifest: StackManifest; ms: number }> {
  const manifest = await waitFor(
    `${tier} restarted by the supervisor`,
    async () => {
      const now = await readManifest();
      const pid = now?.pids?.[tier];
      return pid && pid !== oldPid && alive(pid) ? now : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
  return { manifest, ms: Date.now() - since };
}

async function kill(pid: number): Promise<number> {
  process.kill(pid, 'SIGKILL');
  await waitFor(`pid ${pid} to die`, async () => !alive(pid), { timeoutMs: 5_000, intervalMs: 10 });
  return Date.now();
}

const others = (pids: Record<string, number>, tier: string) => Object.fromEntries(Object.entries(pids).filter(([k]) => k !== tier));
/** A client-credentials token request at the edge, raw: the test sees the edge's own status and body. */
const tokenRequest = () =>
  rawRequest(m, {
    method: 'POST',
    path: `${new URL(m.issuer).pathname}/protocol/openid-connect/token`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: m.clients.service.id,
      client_secret: m.clients.service.secret,
      scope: 'mcp:read',
    }).toString(),
  });
const toolCode = (r: unknown) => (r as { structuredContent?: { error?: { code?: string } } }).structuredContent?.error?.code;
const errorCode = (r: RawResponse) => {
  try {
    return (JSON.parse(r.body) as { error?: string }).error;
  } catch {
    return undefined;
  }
};

describe('a tier killed or frozen', () => {
  afterAll(async () => {
    if (!supervised) return;
    // The suites after this one need every tier up: each recorded pid alive and a real call end to end.
    await waitForHealthyStack('the stack healthy again after the faults');
  });

  it('restarts a killed read-only MCP server alone: callers get 502 meanwhile, its old sessions 404, the others keep serving', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const before = (await current()).pids!;
    const ro = (await serviceAgentToken(m)).access_token;
    const operator = await userToken(m, 'operator', 'mcp:read mcp:write');
    const old = await post(edgePath(m.resources.readOnly), ro);
    expect(old.status).toBe(200);
    const oldSession = old.headers['mcp-session-id'] as string | undefined;
    expect(oldSession).toBeTruthy();
    const rw = await connectMcp(m, m.resources.readWrite, operator.access_token);
    try {
      const killedAt = await kill(before['mcp-ro']!);
      const during = await post(edgePath(m.resources.readOnly), ro);
      const duringMs = Date.now() - killedAt;
      // The other tiers serve during the outage: the read-write server and Keycloak (a new token).
      const rwDuring = await rw.client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
      const tokenDuring = await serviceAgentToken(m);
      expect(during.status).toBe(502);
      expect(errorCode(during)).toBe('upstream_unavailable');
      expect(rwDuring.isError).toBeFalsy();
      expect(tokenDuring.access_token).toBeTruthy();

      const { manifest: after, ms: recoveredMs } = await restartedFrom('mcp-ro', before['mcp-ro']!, killedAt);
      expect(others(after.pids!, 'mcp-ro')).toEqual(others(before, 'mcp-ro'));
      const fresh = await connectMcp(m, m.resources.readOnly, ro);
      try {
        const r = await fresh.client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
        expect(r.isError, resultText(r)).toBeFalsy();
      } finally {
        await fresh.close();
      }
      // The dead process's session is unknown to the new one: 404 tells the client to initialise again.
      const stale = await post(edgePath(m.resources.readOnly), ro, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), {
        'mcp-session-id': oldSession!,
        'mcp-protocol-version': PROTOCOL,
      });
      expect(stale.status).toBe(404);
      const rwAfter = await rw.client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
      expect(rwAfter.isError).toBeFalsy();
      recordProof(ctx, {
        attack: 'SIGKILL the read-only MCP server',
        expected: '502 upstream_unavailable meanwhile; restarted alone (new pid, others unchanged); old session 404; mcp-rw and Keycloak serve throughout',
        observed: `502 ${errorCode(during)} ${duringMs} ms after the kill; pid ${before['mcp-ro']} → ${after.pids!['mcp-ro']}, healthy ${secs(recoveredMs)} after the kill; old session ${stale.status}; mcp-rw call ok, new token ok during the outage`,
      });
    } finally {
      await rw.close();
    }
  });

  it('fails closed while the verifier is dead, then the supervisor restarts it and the same token works again', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const before = (await current()).pids!;
    const ro = (await serviceAgentToken(m)).access_token;
    expect((await post(edgePath(m.resources.readOnly), ro)).status).toBe(200);
    const audits = async () => (await readAudit(m.auditLog.readOnly)).length + (await readAudit(m.auditLog.readWrite)).length;
    const audited = await audits();

    const killedAt = await kill(before.verifier!);
    const duringRo = await post(edgePath(m.resources.readOnly), ro);
    const duringRw = await post(edgePath(m.resources.readWrite), ro);
    const duringMs = Date.now() - killedAt;
    expect(duringRo.status).toBe(500);
    expect(errorCode(duringRo)).toBe('authorization_unavailable');
    expect(duringRw.status).toBe(500);
    expect(errorCode(duringRw)).toBe('authorization_unavailable');
    // Nothing reached an MCP server: neither audit log gained a record (each server audits every request it refuses too).
    expect(await audits()).toBe(audited);

    const { manifest: after, ms: recoveredMs } = await restartedFrom('verifier', before.verifier!, killedAt);
    expect(others(after.pids!, 'verifier')).toEqual(others(before, 'verifier'));
    const again = await post(edgePath(m.resources.readOnly), ro);
    expect(again.status).toBe(200);
    recordProof(ctx, {
      attack: 'SIGKILL the token verifier, then call /mcp and /mcp/admin with a valid token',
      expected: '500 authorization_unavailable, no MCP audit record; restarted alone; the same token works after',
      observed: `${duringRo.status} ${errorCode(duringRo)} / ${duringRw.status} (${duringMs} ms after the kill), MCP audit records +0; pid ${before.verifier} → ${after.pids!.verifier}, healthy ${secs(recoveredMs)} after the kill; token accepted again`,
    });
  });

  it('with Keycloak frozen, keeps accepting issued tokens and fails new token requests fast with 504, then recovers on SIGCONT', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const pid = (await current()).pids!.keycloak!;
    const issued = (await serviceAgentToken(m)).access_token;
    // The verifier has the signing keys once it has verified one token: the freeze then tests its cache.
    expect((await post(edgePath(m.resources.readOnly), issued)).status).toBe(200);
    let frozenCall: RawResponse;
    let frozenToken: RawResponse;
    let tokenMs: number;
    // The whole group: kc.sh and its JVM, like a host that stopped scheduling Keycloak.
    process.kill(-pid, 'SIGSTOP');
    try {
      frozenCall = await post(edgePath(m.resources.readOnly), issued);
      const t0 = Date.now();
      frozenToken = await tokenRequest();
      tokenMs = Date.now() - t0;
    } finally {
      process.kill(-pid, 'SIGCONT');
    }
    const resumed = Date.now();
    const after = await waitFor(
      'a token from the resumed Keycloak',
      async () => {
        const r = await tokenRequest();
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    const recoveredMs = Date.now() - resumed;
    expect(frozenCall.status).toBe(200);
    expect(frozenToken.status).toBe(504);
    expect(errorCode(frozenToken)).toBe('upstream_timeout');
    expect(JSON.parse(after.body)).toHaveProperty('access_token');
    expect((await current()).pids!.keycloak).toBe(pid);
    recordProof(ctx, {
      attack: 'SIGSTOP Keycloak (its whole process group), then call /mcp with an issued token and request a new one',
      expected: 'issued token still opens /mcp (JWKS cached); new token request 504 upstream_timeout within the edge bound (5 s); SIGCONT restores service',
      observed: `/mcp ${frozenCall.status}; token request ${frozenToken.status} ${errorCode(frozenToken)} after ${secs(tokenMs)}; first token ${secs(recoveredMs)} after SIGCONT`,
    });
  });

  it('with Keycloak killed, keeps accepting issued tokens, fails new token requests at once with 502, and the supervisor restarts it alone', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const before = (await current()).pids!;
    const issued = (await serviceAgentToken(m)).access_token;
    expect((await post(edgePath(m.resources.readOnly), issued)).status).toBe(200);
    // The whole group, as the kernel's OOM killer or a crashed host would: kc.sh and its JVM.
    process.kill(-before.keycloak!, 'SIGKILL');
    await waitFor('keycloak to die', async () => !alive(before.keycloak!), { timeoutMs: 10_000, intervalMs: 10 });
    const killedAt = Date.now();
    const during = await post(edgePath(m.resources.readOnly), issued);
    const t0 = Date.now();
    const tokenDuring = await tokenRequest();
    const tokenMs = Date.now() - t0;
    expect(during.status).toBe(200);
    expect(tokenDuring.status).toBe(502);
    expect(errorCode(tokenDuring)).toBe('upstream_unavailable');

    const { manifest: after, ms: restartMs } = await restartedFrom('keycloak', before.keycloak!, killedAt);
    expect(others(after.pids!, 'keycloak')).toEqual(others(before, 'keycloak'));
    const fresh = await tokenRequest();
    expect(fresh.status).toBe(200);
    const freshToken = (JSON.parse(fresh.body) as { access_token: string }).access_token;
    // The restarted Keycloak signs with a new key: the verifier learns it on the first unknown kid (one refresh).
    expect((await post(edgePath(m.resources.readOnly), freshToken)).status).toBe(200);
    // Reported, not asserted: each native Keycloak start imports the realm afresh, with new signing keys.
    const old = await post(edgePath(m.resources.readOnly), issued);
    recordProof(ctx, {
      attack: 'SIGKILL Keycloak (its whole process group); call /mcp with an issued token, request a new one',
      expected:
        'issued token still opens /mcp; new token request 502 upstream_unavailable at once; Keycloak restarted alone; new tokens accepted without a verifier restart',
      observed: `/mcp ${during.status}; token request ${tokenDuring.status} ${errorCode(tokenDuring)} in ${tokenMs} ms; pid ${before.keycloak} → ${after.pids!.keycloak}, ready ${secs(restartMs)} after the kill; new token accepted; token from before the restart now ${old.status} (new realm keys)`,
    });
  }, 150_000);

  it('answers DB_UNAVAILABLE within serverSelectionTimeoutMS while the database cannot be reached, and recovers without a restart', async (ctx) => {
    if (!supervised || !m.direct.netns) return ctx.skip('needs the native stack with network namespaces: the cut is a firewall rule in the edge namespace');
    const db = m.internal.find((t) => t.name === 'database-from-edge');
    if (!db) return ctx.skip('the manifest names no edge-side database address');
    const before = (await current()).pids!;
    const session = await connectMcp(m, m.resources.readOnly, (await serviceAgentToken(m)).access_token);
    const list = () => session.client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
    // What a stopped database looks like to the MCP servers (refused and reset connections), held as long as the
    // test needs, while the supervisor (which would restart a stopped one at once) has nothing to do.
    const rule = ['OUTPUT', '-p', 'tcp', '-d', db.host, '--dport', String(db.port), '-j', 'REJECT', '--reject-with', 'tcp-reset'];
    try {
      expect((await list()).isError).toBeFalsy();
      await run('iptables', ['-I', ...rule], { netns: m.direct.netns });
      let down: unknown;
      let downMs: number;
      try {
        const t0 = Date.now();
        down = await list();
        downMs = Date.now() - t0;
      } finally {
        await run('iptables', ['-D', ...rule], { netns: m.direct.netns });
      }
      const restored = Date.now();
      await waitFor('a tool call after the database is reachable again', async () => !(await list()).isError, { timeoutMs: 60_000, intervalMs: 200 });
      const recoveredMs = Date.now() - restored;
      expect(toolCode(down)).toBe('DB_UNAVAILABLE');
      expect((await current()).pids).toEqual(before);
      recordProof(ctx, {
        attack: "cut the MCP servers' connections to the database (refused/reset, as a stopped database), call a tool",
        expected: 'DB_UNAVAILABLE within serverSelectionTimeoutMS (10 s), no crash; recovery without a restart',
        observed: `${toolCode(down)} after ${secs(downMs)}; no tier restarted; next call ok ${secs(recoveredMs)} after the cut ended`,
      });
    } finally {
      await run('iptables', ['-D', ...rule], { netns: m.direct.netns }).catch(() => undefined); // already gone unless a step above threw
      await session.close();
    }
  });

  it('restarts a killed database alone; the MCP servers reconnect to it without a restart', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const before = (await current()).pids!;
    const session = await connectMcp(m, m.resources.readOnly, (await serviceAgentToken(m)).access_token);
    const list = () => session.client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
    try {
      expect((await list()).isError).toBeFalsy();
      const killedAt = await kill(before.database!);
      // Started during the outage: it waits for a server up to serverSelectionTimeoutMS, then answers DB_UNAVAILABLE.
      const during = await list();
      const duringMs = Date.now() - killedAt;
      const { manifest: after, ms: restartMs } = await restartedFrom('database', before.database!, killedAt);
      await waitFor('a tool call against the restarted database', async () => !(await list()).isError, { timeoutMs: 60_000, intervalMs: 200 });
      const recoveredMs = Date.now() - killedAt;
      expect(during.isError ? toolCode(during) : 'ok').toMatch(/^(ok|DB_UNAVAILABLE)$/);
      expect(others(after.pids!, 'database')).toEqual(others(before, 'database'));
      recordProof(ctx, {
        attack: 'SIGKILL the database',
        expected: 'restarted alone; a call meanwhile waits or answers DB_UNAVAILABLE; MCP servers recover without a restart',
        observed: `call during the outage: ${during.isError ? toolCode(during) : 'ok (waited for the restart)'} after ${secs(duringMs)}; pid ${before.database} → ${after.pids!.database} healthy ${secs(restartMs)} after the kill; tools ok ${secs(recoveredMs)} after the kill, MCP pids unchanged`,
      });
    } finally {
      await session.close();
    }
  });
});

/**
 * Faults under compose (issue #16): a container's process killed (SIGKILL to its init, as the kernel's OOM killer
 * would: not `docker stop`, which the engine takes as wanted). The engine's restart policy (restart: unless-stopped in
 * compose.yaml) must bring the service back alone while the edge keeps serving what does not depend on it — and,
 * for the verifier, refuses everything meanwhile (fail closed). Runs under STACK_RUNTIME=compose
 * (npm run test:compose); natively the supervisor does this job (tests/security/faults.test.ts).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ContainerInspectInfo } from 'dockerode';
import { waitFor } from '../../scripts/stack/process.ts';
import { auditWhere } from '../harness/audit.ts';
import { composeProject, type EngineClient } from '../harness/compose-engine.ts';
import { rawMcpSession, type RawResponse } from '../harness/http.ts';
import { recordProof } from '../harness/proof.ts';
import { serviceAgentToken, userToken } from '../harness/tokens.ts';

const m = inject('manifest');
const NATIVE = 'native runtime: the supervisor restarts tiers there (tests/security/faults.test.ts); this suite kills containers';
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const edgeError = (r: RawResponse) => {
  try {
    return (JSON.parse(r.body) as { error?: string }).error;
  } catch {
    return undefined;
  }
};

let client: EngineClient;
let project = '';
const SERVICES = ['proxy', 'verifier', 'mcp-ro', 'mcp-rw', 'keycloak'];

const inspect = (service: string): Promise<ContainerInspectInfo> => client.container.inspect(client.container.getById(`${project}-${service}-1`));
const startedAt = async () => Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, (await inspect(s)).State.StartedAt] as const)));

/** Why a test cannot kill `service` here, or undefined: natively there are no containers; a remote engine's are out of reach. */
async function cannotKill(service: string): Promise<string | undefined> {
  if (m.runtime !== 'compose') return NATIVE;
  if (!existsSync(`/proc/${(await inspect(service)).State.Pid}`))
    return 'the engine runs in another PID namespace (e.g. a VM): its container processes cannot be signalled from here';
  return undefined;
}

/** SIGKILL to the container's init (tini, compose `init: true`), from the host: the container exits 137 on its own. */
async function killContainer(service: string): Promise<{ restartCount: number; at: number }> {
  const i = await inspect(service);
  process.kill(i.State.Pid, 'SIGKILL');
  return { restartCount: i.RestartCount, at: Date.now() };
}

/** Waits until the engine has restarted `service` and its healthcheck passes again. */
async function restartedHealthy(service: string, before: number): Promise<ContainerInspectInfo> {
  return waitFor(
    `${service} restarted by the engine and healthy`,
    async () => {
      const i = await inspect(service);
      return i.RestartCount > before && i.State.Running && i.State.Health?.Status === 'healthy' ? i : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  );
}

/** A raw session (tests/harness/http.ts) whose one call is list-collections. */
async function session(route: string, token: string) {
  const s = await rawMcpSession(m, route, token, 'faults-compose');
  return { ...s, id: s.sessionId, list: () => s.call('list-collections', { database: m.database.name }) };
}

const ro = new URL(m.resources.readOnly).pathname;
const rw = new URL(m.resources.readWrite).pathname;

describe('a container killed under compose', () => {
  beforeAll(async () => {
    if (m.runtime !== 'compose') return;
    ({ client, project } = await composeProject());
  });

  afterAll(async () => {
    if (m.runtime !== 'compose') return;
    // The suites after this one need every service healthy.
    await waitFor(
      'every service healthy again',
      async () => (await Promise.all(SERVICES.map(inspect))).every((i) => i.State.Running && (i.State.Health?.Status ?? 'healthy') === 'healthy'),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  }, 150_000);

  it('restarts a killed mcp-ro container by its restart policy alone: 502 meanwhile, its old sessions 404, mcp-rw served throughout', async (ctx) => {
    const why = await cannotKill('mcp-ro');
    if (why) return ctx.skip(why);
    const token = (await serviceAgentToken(m)).access_token;
    const operator = (await userToken(m, 'operator', 'mcp:read mcp:write')).access_token;
    const old = await session(ro, token);
    const writer = await session(rw, operator);
    try {
      expect(old.status).toBe(200);
      expect((await old.list()).status).toBe(200);
      const others = await startedAt();
      const { restartCount, at } = await killContainer('mcp-ro');
      // Right after the kill: nginx finds nothing on 127.0.0.1:3001 (502) — unless the engine was faster than this call.
      const during = await old.list();
      const duringRw = await writer.list();
      const after = await restartedHealthy('mcp-ro', restartCount);
      const restartMs = Date.now() - at;
      const stale = await old.list();
      const fresh = await session(ro, token);
      const freshCall = await fresh.list();
      await fresh.close();
      expect([502, 404]).toContain(during.status);
      if (during.status === 502) expect(edgeError(during)).toBe('upstream_unavailable');
      expect(duringRw.status).toBe(200);
      expect(stale.status).toBe(404);
      expect(fresh.status).toBe(200);
      expect(freshCall.status).toBe(200);
      expect(after.RestartCount).toBe(restartCount + 1);
      const now = await startedAt();
      expect({ ...now, 'mcp-ro': '' }).toEqual({ ...others, 'mcp-ro': '' });
      recordProof(ctx, {
        attack: "compose: SIGKILL mcp-ro's container init from the host (as the OOM killer would; not docker stop)",
        expected:
          "the engine restarts mcp-ro alone (restart: unless-stopped); the edge answers 502 upstream_unavailable meanwhile; mcp-rw serves throughout; the dead process's session 404, a new session 200",
        observed: `call right after the kill ${during.status} ${edgeError(during) ?? ''}; mcp-rw ${duringRw.status}; RestartCount ${restartCount} → ${after.RestartCount}, healthy ${secs(restartMs)} after the kill; old session ${stale.status}, new session ${fresh.status}; no other container restarted`,
      });
    } finally {
      await old.close();
      await writer.close();
    }
  }, 180_000);

  it('fails closed while the verifier container is dead (500, no call reaches an MCP server), and the engine brings it back alone', async (ctx) => {
    const why = await cannotKill('verifier');
    if (why) return ctx.skip(why);
    const token = (await serviceAgentToken(m)).access_token;
    const s = await session(ro, token);
    try {
      expect(s.status).toBe(200);
      expect((await s.list()).status).toBe(200);
      const others = await startedAt();
      const { restartCount, at } = await killContainer('verifier');
      // Calls back to back on a live MCP session until the verifier is back: each one either refused at the edge or served.
      const statuses: Record<string, number> = {};
      let served = 0;
      let refused = 0;
      let healthy: ContainerInspectInfo | undefined;
      while (!healthy && Date.now() - at < 120_000) {
        const r = await s.list();
        const key = `${r.status}${edgeError(r) ? ` ${edgeError(r)}` : ''}`;
        statuses[key] = (statuses[key] ?? 0) + 1;
        if (r.status === 200) served++;
        else refused++;
        const i = await inspect('verifier');
        if (i.RestartCount > restartCount && i.State.Running && i.State.Health?.Status === 'healthy') healthy = i;
        else await new Promise((res) => setTimeout(res, 100));
      }
      const restartMs = Date.now() - at;
      expect(healthy, 'the verifier healthy again within 120 s').toBeDefined();
      const afterCall = await s.list();
      // Only the served calls (before the kill took effect, or after the restart) have MCP records.
      const records = await auditWhere(m.auditLog.readOnly, (l) => l.sessionId === s.id && l.event === 'tool_call', { min: served + 2 });
      expect(
        Object.keys(statuses).every((k) => k === '200' || k === '500 authorization_unavailable'),
        JSON.stringify(statuses),
      ).toBe(true);
      expect(refused).toBeGreaterThan(0);
      expect(afterCall.status).toBe(200);
      expect(records.length).toBe(served + 2);
      const now = await startedAt();
      expect({ ...now, verifier: '' }).toEqual({ ...others, verifier: '' });
      recordProof(ctx, {
        attack: "compose: SIGKILL the verifier container's init from the host, keep calling list-collections on a live MCP session",
        expected:
          'every call refused 500 authorization_unavailable until the engine restarts the verifier (restart: unless-stopped); none reaches the MCP server (audit = served calls); no other container restarted; the same token works after',
        observed: `calls during the outage: ${JSON.stringify(statuses)}; MCP audit records ${records.length} = ${served + 2} served calls; RestartCount ${restartCount} → ${healthy!.RestartCount}, healthy ${secs(restartMs)} after the kill; same token 200 after`,
      });
    } finally {
      await s.close();
    }
  }, 180_000);
});

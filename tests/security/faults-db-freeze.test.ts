/**
 * A frozen database (issue #16): the database process stopped with SIGSTOP — alive, its port open, its TCP
 * connections established, but answering nothing, as a host under memory pressure or a hung disk leaves it. Unlike
 * a stopped database (tests/security/faults.test.ts), nothing refuses or resets a connection: only a timeout can
 * end a call. FerretDB keeps its data in SQLite inside its own process, so the one process is the whole store.
 * The fault is undone in `finally`; the file ends by waiting for a healthy stack.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { currentManifest } from '../harness/manifest.ts';
import { connectMcp, errorCode, resultText } from '../harness/mcp.ts';
import { recordProof } from '../harness/proof.ts';
import { waitForHealthyStack } from '../harness/stack-health.ts';
import { serviceAgentToken, userToken } from '../harness/tokens.ts';
import { waitFor } from '../../scripts/stack/process.ts';

const m = inject('manifest');
const supervised = m.runtime === 'native' && Object.keys(m.pids ?? {}).length > 0;
const NOT_NATIVE = 'compose runtime: the engine, not the native supervisor, runs the tiers (no tier pids in the manifest)';
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** The test's own bound on one call: far above any timeout of the server's, so a hang fails the test, not the run. */
const CALL_BOUND_MS = 90_000;

describe('a frozen database', () => {
  afterAll(async () => {
    if (!supervised) return;
    await waitForHealthyStack('the stack healthy again after the database froze');
  }, 150_000);

  it('answers calls on both MCP servers with DB_UNAVAILABLE while the database is frozen, without a hang or a restart, and serves again after SIGCONT', async (ctx) => {
    if (!supervised) return ctx.skip(NOT_NATIVE);
    const before = (await currentManifest()).pids!;
    const pid = before.database!;
    const ro = await connectMcp(m, m.resources.readOnly, (await serviceAgentToken(m)).access_token);
    const rw = await connectMcp(m, m.resources.readWrite, (await userToken(m, 'operator', 'mcp:read mcp:write')).access_token);
    const list = (s: typeof ro) => s.client.callTool({ name: 'list-collections', arguments: { database: m.database.name } }, { timeout: CALL_BOUND_MS });
    const count = (s: typeof ro) =>
      s.client.callTool({ name: 'count', arguments: { database: m.database.name, collection: 'orders', query: {} } }, { timeout: CALL_BOUND_MS });
    let frozen = false;
    try {
      // Warm: both servers hold pooled connections to the database, the case where a call waits on a live socket.
      for (const s of [ro, rw]) expect((await list(s)).isError).toBeFalsy();
      // The whole process group: FerretDB (and with mongod, mongod) is one process here; -pid covers any child.
      process.kill(-pid, 'SIGSTOP');
      frozen = true;
      const t0 = Date.now();
      const timed = async <T>(p: Promise<T>) => {
        const r = await p;
        return { r, ms: Date.now() - t0 };
      };
      const [roList, rwList, roCount] = await Promise.all([timed(list(ro)), timed(list(rw)), timed(count(ro))]);
      // One more call once the servers have seen the database go quiet: no call waits longer than the first ones.
      const t1 = Date.now();
      const later = await list(ro);
      const laterMs = Date.now() - t1;
      process.kill(-pid, 'SIGCONT');
      frozen = false;
      const resumed = Date.now();
      await waitFor('a tool call on both servers after SIGCONT', async () => !(await list(ro)).isError && !(await list(rw)).isError, {
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      const recoveredMs = Date.now() - resumed;
      const codes = [roList, rwList, roCount].map((x) => errorCode(x.r));
      expect(codes, [roList, rwList, roCount].map((x) => resultText(x.r)).join(' | ')).toEqual(['DB_UNAVAILABLE', 'DB_UNAVAILABLE', 'DB_UNAVAILABLE']);
      expect(errorCode(later), resultText(later)).toBe('DB_UNAVAILABLE');
      // The message names the cause and nothing of the topology (no address, no URI).
      expect(resultText(roList.r)).toBe('Error [DB_UNAVAILABLE]: the database is unavailable; try again later');
      expect((await currentManifest()).pids).toEqual(before);
      recordProof(ctx, {
        attack:
          'SIGSTOP the database (FerretDB with its SQLite store: one process; port open, connections established, nothing answers) while both MCP servers hold pooled connections; call list-collections on both and count on mcp-ro',
        expected: 'every call answers DB_UNAVAILABLE (no hang, no address in the message), no tier restarted; SIGCONT: calls succeed again without a restart',
        observed: `DB_UNAVAILABLE on mcp-ro list-collections after ${secs(roList.ms)}, mcp-rw list-collections after ${secs(rwList.ms)}, mcp-ro count after ${secs(roCount.ms)}; a call started after those: DB_UNAVAILABLE after ${secs(laterMs)}; no tier restarted; both servers ok ${secs(recoveredMs)} after SIGCONT`,
      });
    } finally {
      if (frozen) process.kill(-pid, 'SIGCONT');
      await ro.close();
      await rw.close();
    }
  }, 240_000);
});

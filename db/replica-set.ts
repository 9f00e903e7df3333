/**
 * Replica-set bootstrap for mongod: initiate once, then wait for a writable primary. A node that already
 * belongs to a set is left alone, so re-running is a no-op. FerretDB has no replica sets; callers skip this.
 */
import type { MongoClient } from 'mongodb';

export interface ReplicaSetSpec {
  name: string;
  members: string[];
}

type Log = (line: string) => void;

/** The first member gets the highest priority so the primary is predictable (init, health checks). */
export async function ensureReplicaSet(client: MongoClient, rs: ReplicaSetSpec, log: Log, timeoutMs = 120_000): Promise<'initiated' | 'unchanged'> {
  const admin = client.db('admin');
  const hello = await admin.command({ hello: 1 });
  if (hello.setName) {
    if (hello.setName !== rs.name) throw new Error(`node belongs to replica set "${hello.setName}", expected "${rs.name}"`);
    return 'unchanged';
  }
  const config = {
    _id: rs.name,
    members: rs.members.map((host, i) => ({ _id: i, host, priority: i === 0 ? 2 : 1 })),
  };
  // In compose the other members may still be starting: replSetInitiate's quorum check then fails
  // (NodeNotFound and friends), so retry until they answer.
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.command({ replSetInitiate: config });
      log(`initiated replica set ${rs.name} with ${rs.members.length} member(s)`);
      return 'initiated';
    } catch (err) {
      const e = err as { code?: number; message?: string };
      if (e.code === 23) return 'unchanged'; // AlreadyInitialized: another run won the race
      if (Date.now() > deadline) throw err;
      if (attempt === 1) log(`replica set not initiated yet (${e.message ?? 'error'}); retrying`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** Polls `hello` on this (directly connected) node until it is a writable primary. */
export async function waitForWritablePrimary(client: MongoClient, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hello = await client
      .db('admin')
      .command({ hello: 1 })
      .catch(() => ({}) as Record<string, unknown>);
    if (hello.isWritablePrimary === true) return;
    if (Date.now() > deadline) throw new Error(`no writable primary after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

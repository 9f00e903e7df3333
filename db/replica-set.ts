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
export async function ensureReplicaSet(client: MongoClient, rs: ReplicaSetSpec, log: Log): Promise<'initiated' | 'unchanged'> {
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
  try {
    await admin.command({ replSetInitiate: config });
    log(`initiated replica set ${rs.name} with ${rs.members.length} member(s)`);
    return 'initiated';
  } catch (err) {
    // 23 AlreadyInitialized: another init run won the race; that is the state we want.
    if ((err as { code?: number }).code === 23) return 'unchanged';
    throw err;
  }
}

/** Polls `hello` on this (directly connected) node until it is a writable primary. */
export async function waitForWritablePrimary(client: MongoClient, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hello = await client.db('admin').command({ hello: 1 }).catch(() => ({}) as Record<string, unknown>);
    if (hello.isWritablePrimary === true) return;
    if (Date.now() > deadline) throw new Error(`no writable primary after ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

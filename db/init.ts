/**
 * THE database init, for the native runner (imported) and compose's `mongo-init` one-shot
 * (`node db/init.ts`, configured by environment only). Every step is idempotent:
 *   1. (replica set only) replSetInitiate, then wait for a writable primary;
 *   2. the admin user — created through the localhost exception on a fresh mongod; on FerretDB it is
 *      created at startup by --setup-username, so here it must already authenticate;
 *   3. users mcp_reader (read on the app db) and mcp_writer (readWrite), SCRAM-SHA-256;
 *   4. the synthetic sample dataset and its indexes.
 * Never prints a password or a connection string.
 */
import type { MongoClient } from 'mongodb';
import { connect, isAuthFailure, type ConnectionSpec } from './connection.ts';
import { initOptionsFromEnv, type InitOptions } from './config.ts';
import { ensureReplicaSet, waitForWritablePrimary } from './replica-set.ts';
import { appRoles, ensureUser, READER, WRITER, type DbKind } from './users.ts';
import { ensureSampleData } from './seed.ts';
import type { SampleCollection } from './sample-data.ts';

export type { InitOptions } from './config.ts';
export type Log = (line: string) => void;

export interface InitResult {
  kind: DbKind;
  users: Record<string, 'created' | 'updated' | 'unchanged'>;
  inserted: Record<SampleCollection, number> | null;
}

const stderrLog: Log = (line) => process.stderr.write(`[db-init] ${line}\n`);

async function detectKind(c: MongoClient): Promise<DbKind> {
  const info = await c.db('admin').command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string' ? 'ferretdb' : 'mongod';
}

/** Connects as admin, creating the admin user through the localhost exception when none exists yet. */
async function adminClient(o: InitOptions, base: ConnectionSpec, log: Log): Promise<MongoClient> {
  const user = { name: o.adminUsername, password: o.passwords.admin };
  try {
    return await connect({ ...base, user });
  } catch (err) {
    if (!isAuthFailure(err)) throw err;
  }
  const anon = await connect(base);
  try {
    if ((await detectKind(anon)) === 'ferretdb') {
      throw new Error('FerretDB refused the admin credentials (the admin user is created by --setup-username at first start)');
    }
    await anon.db('admin').command({ createUser: user.name, pwd: user.password, roles: [{ role: 'root', db: 'admin' }], mechanisms: ['SCRAM-SHA-256'] });
    log(`created admin user ${user.name} through the localhost exception`);
  } catch (err) {
    if ((err as { code?: number }).code === 13) {
      throw new Error('the database refused the admin credentials and the localhost exception no longer applies (users exist)');
    }
    throw err;
  } finally {
    await anon.close();
  }
  return connect({ ...base, user });
}

export async function initDatabase(o: InitOptions, log: Log = stderrLog): Promise<InitResult> {
  const first = o.hosts[0];
  if (!first) throw new Error('no database host given');
  // Init talks to one node directly: the replica set may not exist yet, and the localhost exception
  // (mongod's first-user bootstrap) only applies to a direct loopback connection.
  const base: ConnectionSpec = { hosts: [first], tls: o.tls, direct: true, appName: 'db-init' };
  if (o.replicaSet) {
    // Before any user exists the localhost exception allows replSetInitiate; when the image already created
    // the admin user (compose's MONGO_INITDB_ROOT_*), authenticate first. A re-run finds the set and skips.
    const c = await connect({ ...base, user: { name: o.adminUsername, password: o.passwords.admin } }, 30_000).catch((err: unknown) =>
      isAuthFailure(err) ? connect(base, 30_000) : Promise.reject(err),
    );
    try {
      await ensureReplicaSet(c, o.replicaSet, log);
      await waitForWritablePrimary(c);
    } finally {
      await c.close();
    }
  }
  const admin = await adminClient(o, base, log);
  try {
    const kind = await detectKind(admin);
    const roles = appRoles(kind, o.dbName);
    const adminDb = admin.db('admin');
    const users = {
      [READER]: await ensureUser(adminDb, base, kind, READER, o.passwords.reader, roles[READER] ?? [], log),
      [WRITER]: await ensureUser(adminDb, base, kind, WRITER, o.passwords.writer, roles[WRITER] ?? [], log),
    };
    const inserted = o.sampleData ? await ensureSampleData(admin.db(o.dbName), log) : null;
    log(`database ready (${kind}, db ${o.dbName})`);
    return { kind, users, inserted };
  } finally {
    await admin.close();
  }
}

if (import.meta.main) {
  initDatabase(initOptionsFromEnv()).then(
    () => process.exit(0),
    (err: unknown) => {
      // Driver messages carry host names, never credentials; still, print the message only.
      stderrLog(`failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}

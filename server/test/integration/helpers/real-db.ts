/**
 * One real database per test file (mongod if on PATH, else FerretDB from the provisioning cache, both
 * with the sample data) and in-process MCP sessions over it: the server and client share the process,
 * the database is the real one. Registers its own beforeAll/afterAll, so call it at the top of a file.
 */
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { startDatabase, type Database } from '../../../../scripts/stack/database.ts';
import { connectDatabase } from '../../../src/db/connect.ts';
import { defaultConfig, type Config } from '../../../src/config/schema.ts';
import { connectInMemory } from '../../unit/helpers/in-memory.ts';

export interface RealDatabase {
  /** The running database; only valid inside tests and hooks registered after this call. */
  readonly db: Database;
  /** A client made the way the server makes its own (connectDatabase); closed after the file. */
  mongo(uri: string, overrides?: Partial<Config>): Promise<MongoClient>;
  /** An MCP client connected in-process to a server instance with `overrides`, over a real client for `uri`. */
  session(uri: string, overrides?: Partial<Config>, client?: MongoClient): ReturnType<typeof connectInMemory>;
}

/** The first port of [from, to] nobody listens on, so parallel suites keep to their own range. */
export async function freePortInRange(from: number, to: number): Promise<number> {
  for (let p = from; p <= to; p++) {
    const free = await new Promise<boolean>((ok) => {
      const s = createServer().once('error', () => ok(false));
      s.listen(p, '127.0.0.1', () => s.close(() => ok(true)));
    });
    if (free) return p;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

export function useRealDatabase(options: { prefix: string; ports?: [number, number] }): RealDatabase {
  let db: Database | undefined;
  let dir: string | undefined;
  const clients: MongoClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), options.prefix));
    const port = options.ports ? await freePortInRange(...options.ports) : 0;
    db = await startDatabase({ dir, port, log: () => undefined });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const mongo = async (uri: string, overrides: Partial<Config> = {}) => {
    const c = await connectDatabase(defaultConfig({ ...overrides, connectionString: uri }));
    clients.push(c);
    return c;
  };

  return {
    get db(): Database {
      if (!db) throw new Error('the database is not started yet (use it inside tests or later hooks)');
      return db;
    },
    mongo,
    async session(uri, overrides = {}, client) {
      return connectInMemory(overrides, { client: client ?? (await mongo(uri, overrides)) });
    },
  };
}

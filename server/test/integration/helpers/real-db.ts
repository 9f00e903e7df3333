/**
 * One real database per test file (mongod if on PATH, else FerretDB from the provisioning cache, both
 * with the sample data) and in-process MCP sessions over it: the server and client share the process,
 * the database is the real one. Registers its own beforeAll/afterAll, so call it at the top of a file.
 */
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MongoClient } from 'mongodb';
import { startDatabase, type Database } from '../../../../scripts/stack/database.ts';
import { connectDatabase } from '../../../src/db/connect.ts';
import { defaultConfig, type Config } from '../../../src/config/schema.ts';
import { approveAll, connectInMemory } from '../../unit/helpers/in-memory.ts';

export interface RealDatabase {
  /** The running database; only valid inside tests and hooks registered after this call. */
  readonly db: Database;
  /** A client made the way the server makes its own (connectDatabase); closed after the file. */
  mongo(uri: string, overrides?: Partial<Config>): Promise<MongoClient>;
  /** An MCP client connected in-process to a server instance with `overrides`, over a real client for `uri`. */
  session(uri: string, overrides?: Partial<Config>, client?: MongoClient): ReturnType<typeof connectInMemory>;
}

export function useRealDatabase(options: { prefix: string }): RealDatabase {
  let db: Database | undefined;
  let dir: string | undefined;
  const clients: MongoClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), options.prefix));
    db = await startDatabase({ dir, port: 0, log: () => undefined }); // 0: a free port
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
      // The in-process client approves every approval asked (drops, bulk writes): the stack suite proves the refusals.
      return connectInMemory(overrides, { client: client ?? (await mongo(uri, overrides)), elicit: approveAll });
    },
  };
}

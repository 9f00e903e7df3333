/**
 * db/init.ts against the real database: the users it creates work and nothing else does, the sample
 * dataset has the documented shape, and running init again changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDatabase, type Database } from '../../scripts/stack/database.ts';
import { initDatabase, type InitOptions } from '../../db/init.ts';
import { readSecretFile } from '../../db/config.ts';
import { SAMPLE_COUNTS, SAMPLE_INDEXES, orders } from '../../db/sample-data.ts';

const PORT = 34120;
const NO_ROLES = 'FerretDB has no roles; runs where mongod exists';
let db: Database;
let dir: string;
let init: InitOptions;

async function withClient<T>(uri: string, f: (c: MongoClient) => Promise<T>): Promise<T> {
  const c = new MongoClient(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    await c.connect();
    return await f(c);
  } finally {
    await c.close();
  }
}

// `exact` counts by query (what a user sees); otherwise from collection statistics (FerretDB scans to count).
const counts = (uri: string, exact = false) =>
  withClient(uri, async (c) => {
    const out: Record<string, number> = {};
    for (const name of Object.keys(SAMPLE_COUNTS)) {
      const coll = c.db('shop').collection(name);
      out[name] = exact ? await coll.countDocuments({}) : ((await coll.aggregate([{ $collStats: { count: {} } }]).next())?.count as number);
    }
    return out;
  });

describe('database init', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'db-init-'));
    db = await startDatabase({ dir, port: PORT, log: () => {} });
    const secret = (n: string) => readSecretFile(join(dir, 'secrets', n));
    init = {
      hosts: [`${db.host}:${db.port}`],
      adminUsername: 'admin',
      dbName: 'shop',
      sampleData: true,
      passwords: { admin: secret('db_admin_password'), reader: secret('db_reader_password'), writer: secret('db_writer_password') },
      tls: { caFile: db.caFile, certKeyFile: db.clientCertKeyFile },
    };
  });
  afterAll(async () => {
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the documented sample dataset: 2 000 customers, 500 products, 20 000 orders', async () => {
    expect(await counts(db.readerUri, true)).toEqual({ customers: 2_000, products: 500, orders: 20_000 });
  });

  it('loads the same documents on every installation (deterministic generator)', async () => {
    const expected = Math.round(orders().reduce((s, o) => s + (o.total as number), 0) * 100);
    const [row] = await withClient(db.readerUri, (c) =>
      c
        .db('shop')
        .collection('orders')
        .aggregate([{ $group: { _id: null, sum: { $sum: '$total' } } }])
        .toArray(),
    );
    expect(Math.round((row?.sum as number) * 100)).toBe(expected);
  });

  it('creates the documented indexes', async () => {
    for (const [name, specs] of Object.entries(SAMPLE_INDEXES)) {
      const have = await withClient(db.readerUri, (c) => c.db('shop').collection(name).listIndexes().toArray());
      expect(have.map((i) => i.name)).toEqual(expect.arrayContaining(specs.map((s) => s.name)));
    }
  });

  it('lets the reader read and the writer write the app database', async () => {
    expect(
      await withClient(db.readerUri, (c) =>
        c
          .db('shop')
          .collection('products')
          .findOne({ _id: 1 as never }),
      ),
    ).not.toBeNull();
    await withClient(db.writerUri, async (c) => {
      const scratch = c.db('shop').collection('init_test_scratch');
      await scratch.insertOne({ probe: true });
      expect(await scratch.countDocuments({ probe: true })).toBe(1);
      await scratch.drop();
    });
  });

  it('changes nothing when run a second time', async () => {
    const before = await counts(db.adminUri);
    const r = await initDatabase(init, () => {});
    expect(r.users).toEqual({ mcp_reader: 'unchanged', mcp_writer: 'unchanged' });
    expect(r.inserted).toEqual({ customers: 0, products: 0, orders: 0 });
    expect(await counts(db.adminUri)).toEqual(before);
  });

  it('makes the password file authoritative: a rotated password replaces the old one', async () => {
    const rotated = 'rotated-reader-password-0123456789abcdef';
    try {
      const r = await initDatabase({ ...init, sampleData: false, passwords: { ...init.passwords, reader: rotated } }, () => {});
      expect(r.users.mcp_reader).toBe('updated');
      const err = await withClient(db.readerUri, (c) => c.db('shop').command({ ping: 1 })).catch((e: unknown) => e);
      expect((err as MongoServerError).code).toBe(18);
    } finally {
      await initDatabase({ ...init, sampleData: false }, () => {});
    }
    expect(await withClient(db.readerUri, (c) => c.db('shop').command({ ping: 1 }))).toMatchObject({ ok: 1 });
  });

  it('refuses a write by the reader (the database enforces the read role)', async (ctx) => {
    if (db.kind !== 'mongod') return ctx.skip(NO_ROLES);
    const err = await withClient(db.readerUri, (c) => c.db('shop').collection('orders').insertOne({ x: 1 })).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(13);
  });

  it('refuses the writer anything outside the app database', async (ctx) => {
    if (db.kind !== 'mongod') return ctx.skip(NO_ROLES);
    const err = await withClient(db.writerUri, (c) => c.db('admin').command({ createUser: 'x', pwd: 'y'.repeat(20), roles: [] })).catch((e: unknown) => e);
    expect((err as MongoServerError).code).toBe(13);
    const other = await withClient(db.writerUri, (c) => c.db('other').collection('t').insertOne({ x: 1 })).catch((e: unknown) => e);
    expect((other as MongoServerError).code).toBe(13);
  });
});

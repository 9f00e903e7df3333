import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { errorCodeOf, textOf } from '../unit/helpers/in-memory.ts';
import { useRealDatabase } from './helpers/real-db.ts';

const MAIN = resolve(import.meta.dirname, '../../src/main.ts');
const NO_ROLES = 'FerretDB has no roles; runs where mongod exists';
const real = useRealDatabase({ prefix: 'mcp-server-it-' });
const { mongo, session } = real;

/** Runs main.ts to its start-up verdict: resolves with the exit code, or 'serving' once it listens. */
function startMain(uri: string, args: string[]): Promise<{ outcome: number | 'serving'; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [MAIN, '--readOnly', ...args], { env: { PATH: process.env.PATH ?? '', MDB_MCP_CONNECTION_STRING: uri } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('serving MCP')) {
        child.kill('SIGTERM');
        resolveRun({ outcome: 'serving', stderr });
      }
    });
    child.on('exit', (code) => resolveRun({ outcome: code ?? -1, stderr }));
  });
}

describe('every tool against a real database', () => {
  it('serves metadata tools over the sample data', async () => {
    const h = await session(real.db.writerUri);
    const ns = { database: real.db.dbName, collection: 'customers' };
    const call = async (name: string, args: Record<string, unknown>) => {
      const r = await h.client.callTool({ name, arguments: args });
      expect(r.isError, `${name}: ${textOf(r)}`).toBeFalsy();
      return textOf(r);
    };
    expect(await call('list-databases', {})).toContain(real.db.dbName);
    expect(await call('list-collections', { database: real.db.dbName })).toContain('customers');
    expect(await call('collection-indexes', ns)).toContain('email_1');
    expect(await call('collection-schema', { ...ns, sampleSize: 5 })).toContain('email');
    expect(await call('collection-storage-size', ns)).toMatch(/size/);
    expect(await call('db-stats', { database: real.db.dbName })).toMatch(/collections/);
    expect(await call('explain', { ...ns, method: [{ name: 'find', arguments: { filter: { country: 'FR' } } }] })).toMatch(/queryPlanner/);
    await h.close();
  });

  it('reads with find, count and aggregate, results in relaxed EJSON and capped with a truncation notice', async () => {
    const h = await session(real.db.readerUri, { readOnly: true, maxDocumentsPerQuery: 5 });
    const ns = { database: real.db.dbName, collection: 'orders' };
    const found = await h.client.callTool({ name: 'find', arguments: { ...ns, filter: {}, limit: 50 } });
    expect(textOf(found)).toMatch(/Returned 5 documents; the result was TRUNCATED at maxDocumentsPerQuery=5/);
    // The caller's own limit is a complete answer, not a truncation.
    const asked = await h.client.callTool({ name: 'find', arguments: { ...ns, filter: {}, limit: 3 } });
    expect(textOf(asked)).toMatch(/^Returned 3 documents\.\n/);
    const count = await h.client.callTool({ name: 'count', arguments: { database: real.db.dbName, collection: 'customers', query: {} } });
    expect(textOf(count)).toContain('"count":2000');
    const agg = await h.client.callTool({ name: 'aggregate', arguments: { ...ns, pipeline: [{ $group: { _id: '$status', n: { $sum: 1 } } }] } });
    expect(agg.isError, textOf(agg)).toBeFalsy();
    expect(h.audit.records.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(h.audit.records[0]?.documents).toBe(5);
    await h.close();
  });

  it('creates, updates, renames and deletes with the writer user', async () => {
    const h = await session(real.db.writerUri);
    const ns = { database: real.db.dbName, collection: 'it_scratch' };
    const ok = async (name: string, args: Record<string, unknown>) => {
      const r = await h.client.callTool({ name, arguments: { ...ns, ...args } });
      expect(r.isError, `${name}: ${textOf(r)}`).toBeFalsy();
      return textOf(r);
    };
    await ok('create-collection', {});
    expect(await ok('insert-many', { documents: [{ a: 1, when: { $date: '2025-01-01T00:00:00Z' } }, { a: 2 }] })).toContain('Inserted 2');
    expect(await ok('create-index', { keys: { a: 1 }, name: 'a_1' })).toContain('a_1');
    expect(await ok('update-many', { filter: { a: 1 }, update: { $set: { b: true } } })).toContain('Updated 1');
    expect(await ok('find', { filter: { b: true } })).toContain('"$date"');
    expect(await ok('drop-index', { indexName: 'a_1' })).toContain('a_1');
    expect(await ok('rename-collection', { newName: 'it_scratch2' })).toContain('it_scratch2');
    const ns2 = { ...ns, collection: 'it_scratch2' };
    const del = await h.client.callTool({ name: 'delete-many', arguments: { ...ns2, filter: { a: 2 } } });
    expect(textOf(del)).toContain('Deleted 1');
    expect(errorCodeOf(await h.client.callTool({ name: 'drop-collection', arguments: ns2 }))).toBeUndefined();
    await ok('insert-many', { database: 'it_dropme', collection: 'x', documents: [{}] });
    expect(errorCodeOf(await h.client.callTool({ name: 'drop-database', arguments: { database: 'it_dropme' } }))).toBeUndefined();
    await h.close();
  });

  it('refuses writes and write stages in read-only mode before the database sees them', async () => {
    const h = await session(real.db.readerUri, { readOnly: true });
    const ns = { database: real.db.dbName, collection: 'orders' };
    expect(errorCodeOf(await h.client.callTool({ name: 'insert-many', arguments: { ...ns, documents: [{}] } }))).toBe('READ_ONLY');
    expect(errorCodeOf(await h.client.callTool({ name: 'aggregate', arguments: { ...ns, pipeline: [{ $facet: { a: [{ $out: 'stolen' }] } }] } }))).toBe(
      'FORBIDDEN_STAGE',
    );
    const c = await mongo(real.db.adminUri);
    expect(await c.db(real.db.dbName).listCollections({ name: 'stolen' }).toArray()).toEqual([]);
    await h.close();
  });

  it('refuses a collection scan when indexCheck is on', async () => {
    const h = await session(real.db.readerUri, { readOnly: true, indexCheck: true });
    const r = await h.client.callTool({ name: 'find', arguments: { database: real.db.dbName, collection: 'customers', filter: { notIndexed: 'x' } } });
    expect(errorCodeOf(r)).toBe('INDEX_CHECK');
    await h.close();
  });

  it('lets an indexed query through when indexCheck is on', async (ctx) => {
    if (real.db.kind !== 'mongod') return ctx.skip('FerretDB (SQLite backend) plans every filter as a table scan; runs where mongod exists');
    const h = await session(real.db.readerUri, { readOnly: true, indexCheck: true });
    const r = await h.client.callTool({ name: 'find', arguments: { database: real.db.dbName, collection: 'customers', filter: { country: 'FR' } } });
    expect(r.isError, textOf(r)).toBeFalsy();
    await h.close();
  });
});

describe('database RBAC', () => {
  it('starts read-only with the reader user (a warning on FerretDB, where privileges cannot be checked)', async () => {
    const r = await startMain(real.db.readerUri, ['--transport', 'http', '--httpPort', '0', '--insecureNoProxyAuth']);
    expect(r.outcome).toBe('serving');
    if (real.db.kind === 'ferretdb') expect(r.stderr).toMatch(/privilege check could not be performed.*FerretDB/);
    expect(r.stderr).not.toMatch(/:[^:@/\s]+@/); // no password from the connection string
  });

  it('refuses to start read-only with write credentials', async (ctx) => {
    if (real.db.kind !== 'mongod') return ctx.skip(NO_ROLES);
    const r = await startMain(real.db.writerUri, ['--transport', 'http', '--httpPort', '0', '--insecureNoProxyAuth']);
    expect(r.outcome).toBe(3);
    expect(r.stderr).toContain('Never use database write credentials with the MCP Server');
  });

  it('has writes by the reader user refused by the database itself', async (ctx) => {
    if (real.db.kind !== 'mongod') return ctx.skip(NO_ROLES);
    const h = await session(real.db.readerUri); // read-write server, read-only DB user
    const r = await h.client.callTool({ name: 'insert-many', arguments: { database: real.db.dbName, collection: 'orders', documents: [{}] } });
    expect(errorCodeOf(r)).toBe('DB_UNAUTHORIZED');
    await h.close();
  });
});

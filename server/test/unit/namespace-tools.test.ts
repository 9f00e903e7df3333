import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { MongoClient } from 'mongodb';
import { connectInMemory, errorCodeOf, textOf, unfencedOf } from './helpers/in-memory.ts';
import { ALL_TOOLS } from '../../src/tools/registry.ts';

/** Arguments that pass each tool's schema; only the namespace changes between cases. */
function argsFor(tool: string, database: string, collection: string): Record<string, unknown> {
  const ns = { database, collection };
  const extra: Record<string, Record<string, unknown>> = {
    'list-databases': {},
    'list-collections': { database },
    'db-stats': { database },
    'drop-database': { database },
    explain: { ...ns, method: [{ name: 'find', arguments: { filter: {} } }] },
    aggregate: { ...ns, pipeline: [{ $match: {} }] },
    'insert-many': { ...ns, documents: [{ a: 1 }] },
    'create-index': { ...ns, keys: { a: 1 } },
    'update-many': { ...ns, filter: {}, update: { $set: { a: 1 } } },
    'rename-collection': { ...ns, newName: 'renamed' },
    'delete-many': { ...ns, filter: {} },
    'drop-index': { ...ns, indexName: 'a_1' },
  };
  return extra[tool] ?? ns;
}

const NAMESPACE_TOOLS = ALL_TOOLS.map((t) => t.name).filter((n) => n !== 'list-databases');
const DB_LEVEL = new Set(['list-collections', 'db-stats', 'drop-database']);

describe('every tool refuses reserved namespaces through the real protocol, before the database', () => {
  // The unconnected client would fail with DB_ERROR/TIMEOUT: a NAMESPACE_FORBIDDEN proves nothing was sent.
  it.each(NAMESPACE_TOOLS)('%s refuses the admin database and is audited as refused', async (name) => {
    const h = await connectInMemory();
    const r = await h.client.callTool({ name, arguments: argsFor(name, 'Admin', 'system.users') });
    expect(errorCodeOf(r), textOf(r)).toBe('NAMESPACE_FORBIDDEN');
    expect(h.audit.records.at(-1)).toMatchObject({ tool: name, outcome: 'refused', errorCode: 'NAMESPACE_FORBIDDEN' });
    await h.close();
  });

  it.each(NAMESPACE_TOOLS.filter((n) => !DB_LEVEL.has(n)))('%s refuses a system collection of an ordinary database', async (name) => {
    const h = await connectInMemory();
    const r = await h.client.callTool({ name, arguments: argsFor(name, 'shop', 'System.Views') });
    expect(errorCodeOf(r), textOf(r)).toBe('NAMESPACE_FORBIDDEN');
    await h.close();
  });

  it('refuses a rename onto a system collection and $out/$merge into another database on a read-write server', async () => {
    const h = await connectInMemory();
    const rename = await h.client.callTool({ name: 'rename-collection', arguments: { database: 'shop', collection: 'orders', newName: 'system.views' } });
    expect(errorCodeOf(rename)).toBe('NAMESPACE_FORBIDDEN');
    for (const stage of [{ $out: { db: 'admin', coll: 'system.users' } }, { $merge: { into: { db: 'config', coll: 'x' } } }]) {
      const r = await h.client.callTool({ name: 'aggregate', arguments: { database: 'shop', collection: 'orders', pipeline: [stage] } });
      expect(errorCodeOf(r)).toBe('NAMESPACE_FORBIDDEN');
    }
    await h.close();
  });

  it('checks every argument that can name a namespace: the tools take no other argument names', () => {
    // refsOfArguments reads database, collection and newName; a new argument that names a namespace must be added there.
    const reviewed = new Set([
      'database',
      'collection',
      'newName',
      'filter',
      'projection',
      'sort',
      'limit',
      'query',
      'pipeline',
      'documents',
      'keys',
      'name',
      'update',
      'upsert',
      'dropTarget',
      'indexName',
      'sampleSize',
      'method',
      'verbosity',
    ]);
    const seen = ALL_TOOLS.flatMap((t) => Object.keys((t.input as z.ZodObject).shape));
    expect(seen.filter((k) => !reviewed.has(k))).toEqual([]);
  });
});

/** A client that answers only the two listing calls, with the reserved names a real server returns. */
function listingClient(): MongoClient {
  const databases = ['admin', 'config', 'local', 'shop'].map((name) => ({ name, sizeOnDisk: 1 }));
  const collections = ['orders', 'system.views', 'system.profile', 'System.js'].map((name) => ({ name, type: 'collection' }));
  const db = { admin: () => ({ listDatabases: async () => ({ databases }) }), listCollections: () => ({ toArray: async () => collections }) };
  return { db: () => db, close: async () => undefined } as unknown as MongoClient;
}

describe('listings show only what a tool could name', () => {
  it('hides admin, local and config from list-databases and system.* from list-collections by default', async () => {
    const h = await connectInMemory({}, { client: listingClient() });
    expect(unfencedOf(await h.client.callTool({ name: 'list-databases', arguments: {} }))).toBe('Found 1 databases.\n[{"name":"shop","sizeOnDisk":1}]');
    expect(unfencedOf(await h.client.callTool({ name: 'list-collections', arguments: { database: 'shop' } }))).toBe('Found 1 collections in shop.\n["orders"]');
    await h.close();
  });

  it('shows exactly the entries an operator allowed', async () => {
    const h = await connectInMemory({ allowReservedNamespaces: ['config', 'shop.system.profile'] }, { client: listingClient() });
    expect(textOf(await h.client.callTool({ name: 'list-databases', arguments: {} }))).toContain(
      '[{"name":"config","sizeOnDisk":1},{"name":"shop","sizeOnDisk":1}]',
    );
    expect(textOf(await h.client.callTool({ name: 'list-collections', arguments: { database: 'shop' } }))).toContain('["orders","system.profile"]');
    await h.close();
  });
});

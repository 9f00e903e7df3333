/**
 * Reserved namespaces, attacked through the edge with real tokens: a reader (service agent, /mcp) and the
 * operator (read-write, /mcp/admin) try to read the database users' SCRAM keys in admin.system.users and
 * the other reserved namespaces — directly, through every stage that names another namespace, through
 * explain — and to see them in listings. The MCP server must refuse them itself: FerretDB has no roles,
 * and no $lookup either, so every assertion is on the guard's own code (NAMESPACE_FORBIDDEN), which it
 * returns before the database sees the call; a database error would mean the guard let it through.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { serviceAgentToken, userToken } from '../harness/tokens.ts';
import { errorCode, connectMcp, resultText, type McpSession } from '../harness/mcp.ts';
import { auditWhere } from '../harness/audit.ts';
import { recordProof } from '../harness/proof.ts';
import { unfence } from '../../server/src/tools/format.ts';

const m = inject('manifest');
const db = m.database.name;
const RESERVED = /^(admin|local|config)$/i;
// Natively the host reaches the database with the admin URI; under compose it sits on an internal network.
const canSeeDb = m.runtime === 'native';
const NO_DB = 'compose: the database is only reachable inside its internal network; runs natively';
// What admin.system.users would leak: any of these in a reply means the refusal carried data.
const CREDENTIALS = /storedKey|serverKey|salt|SCRAM-SHA|credentials/i;

async function call(s: McpSession, name: string, args: Record<string, unknown>) {
  const r = await s.client.callTool({ name, arguments: args });
  return { code: errorCode(r), text: resultText(r), isError: r.isError === true };
}

const lookups: Array<[string, unknown[]]> = [
  ['$lookup from {db: admin, coll: system.users}', [{ $lookup: { from: { db: 'admin', coll: 'system.users' }, pipeline: [], as: 'u' } }]],
  ['$lookup from system.users', [{ $lookup: { from: 'system.users', localField: 'a', foreignField: 'user', as: 'u' } }]],
  ['$unionWith {db: admin, coll: system.users}', [{ $unionWith: { db: 'admin', coll: 'system.users' } }]],
  ['$unionWith system.users', [{ $unionWith: 'system.users' }]],
  [
    '$graphLookup from {db: admin, coll: system.users}',
    [{ $graphLookup: { from: { db: 'admin', coll: 'system.users' }, startWith: '$a', connectFromField: 'a', connectToField: 'user', as: 'u' } }],
  ],
  [
    '$lookup into admin inside a $facet branch',
    [{ $facet: { ok: [{ $match: {} }], leak: [{ $lookup: { from: { db: 'Admin', coll: 'system.users' }, pipeline: [], as: 'u' } }] } }],
  ],
  [
    '$unionWith admin nested in a $lookup sub-pipeline in $facet',
    [{ $facet: { a: [{ $lookup: { from: 'customers', as: 'c', pipeline: [{ $unionWith: { coll: 'system.users', db: 'admin' } }] } }] } }],
  ],
  ['$currentOp (other callers\u2019 operations)', [{ $currentOp: { allUsers: true } }]],
  ['$listSessions', [{ $listSessions: { allUsers: true } }]],
  ['$changeStream for the cluster', [{ $changeStream: { allChangesForCluster: true } }]],
];

describe('reserved namespaces, as a reader through the edge', () => {
  let mcp: McpSession;

  beforeAll(async () => {
    const t = await serviceAgentToken(m);
    mcp = await connectMcp(m, m.resources.readOnly, t.access_token);
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('refuses find on admin.system.users with NAMESPACE_FORBIDDEN, no credential in the reply, audited as refused', async (ctx) => {
    const r = await call(mcp, 'find', { database: 'admin', collection: 'system.users', filter: {}, limit: 10 });
    expect(r.isError).toBe(true);
    expect(r.code, r.text).toBe('NAMESPACE_FORBIDDEN');
    expect(r.text).not.toMatch(CREDENTIALS);
    const line = (await auditWhere(m.auditLog.readOnly, (l) => l.tool === 'find' && l.namespace === 'admin.system.users')).at(-1)?.line;
    expect(line).toMatchObject({ outcome: 'refused', errorCode: 'NAMESPACE_FORBIDDEN' });
    recordProof(ctx, {
      attack: 'reader: find admin.system.users via /mcp',
      expected: 'NAMESPACE_FORBIDDEN, audited refused',
      observed: `${r.code}, audit outcome ${String(line?.outcome)}`,
    });
  });

  it('refuses the users collection however the database name is spelled', async () => {
    for (const database of ['Admin', 'ADMIN', ' admin', 'ad\u200bmin']) {
      const r = await call(mcp, 'find', { database, collection: 'system.users', filter: {} });
      expect(r.code, JSON.stringify(database)).toBe('NAMESPACE_FORBIDDEN');
    }
    const r = await call(mcp, 'find', { database: db, collection: 'System.Users', filter: {} });
    expect(r.code).toBe('NAMESPACE_FORBIDDEN');
  });

  it('refuses the oplog, the config database and the system collections of the application database', async () => {
    for (const [database, collection] of [
      ['local', 'oplog.rs'],
      ['config', 'system.sessions'],
      ['config', 'transactions'],
      [db, 'system.views'],
      [db, 'system.profile'],
    ] as const) {
      const r = await call(mcp, 'find', { database, collection, filter: {} });
      expect(r.code, `${database}.${collection}`).toBe('NAMESPACE_FORBIDDEN');
    }
  });

  it.each(lookups)('refuses an aggregation with %s before the database sees it', async (_what, pipeline) => {
    const r = await call(mcp, 'aggregate', { database: db, collection: 'orders', pipeline });
    expect(r.code, r.text).toBe('NAMESPACE_FORBIDDEN');
    expect(r.text).not.toMatch(CREDENTIALS);
  });

  it('refuses explain of a find on admin.system.users and of an aggregation that looks into it', async (ctx) => {
    const onAdmin = await call(mcp, 'explain', { database: 'admin', collection: 'system.users', method: [{ name: 'find', arguments: { filter: {} } }] });
    expect(onAdmin.code).toBe('NAMESPACE_FORBIDDEN');
    const pipeline = [{ $unionWith: { db: 'admin', coll: 'system.users' } }];
    const viaLookup = await call(mcp, 'explain', { database: db, collection: 'orders', method: [{ name: 'aggregate', arguments: { pipeline } }] });
    expect(viaLookup.code).toBe('NAMESPACE_FORBIDDEN');
    recordProof(ctx, {
      attack: 'reader: explain find admin.system.users; explain $unionWith admin.system.users',
      expected: 'NAMESPACE_FORBIDDEN',
      observed: `${onAdmin.code}, ${viaLookup.code}`,
    });
  });

  it.each([
    ['count', { database: 'admin', collection: 'system.users', query: {} }],
    ['collection-schema', { database: 'admin', collection: 'system.users' }],
    ['collection-indexes', { database: 'admin', collection: 'system.users' }],
    ['collection-storage-size', { database: 'admin', collection: 'system.users' }],
    ['db-stats', { database: 'admin' }],
    ['list-collections', { database: 'admin' }],
  ])('refuses %s on the admin database', async (name, args) => {
    const r = await call(mcp, name, args);
    expect(r.code, r.text).toBe('NAMESPACE_FORBIDDEN');
  });

  it('hides admin, local and config from list-databases', async (ctx) => {
    const r = await call(mcp, 'list-databases', {});
    expect(r.isError, r.text).toBe(false);
    const names = (JSON.parse(unfence(r.text)?.data ?? '') as Array<{ name: string }>).map((d) => d.name);
    expect(names).toContain(db);
    expect(names.filter((n) => RESERVED.test(n))).toEqual([]);
    let hidden = 'not compared (compose)';
    if (canSeeDb) {
      // The filter had something to hide: the database itself lists reserved databases to the admin URI.
      const admin = new MongoClient(m.database.uri);
      try {
        const all = (await admin.db('admin').admin().listDatabases()).databases.map((d) => d.name);
        hidden = all.filter((n) => RESERVED.test(n)).join(', ');
      } finally {
        await admin.close();
      }
    }
    recordProof(ctx, {
      attack: 'reader: list-databases',
      expected: 'no admin/local/config',
      observed: `${names.length} listed, hidden: ${hidden || 'none present'}`,
    });
  });

  it('hides system collections from list-collections', async () => {
    const r = await call(mcp, 'list-collections', { database: db });
    expect(r.isError, r.text).toBe(false);
    const names = JSON.parse(unfence(r.text)?.data ?? '') as string[];
    expect(names).toContain('orders');
    expect(names.filter((n) => /^system\./i.test(n))).toEqual([]);
  });
});

describe('reserved namespaces, as the operator on the read-write route', () => {
  let mcp: McpSession;
  const probe = `mcp_probe_${Date.now()}`;

  beforeAll(async () => {
    const t = await userToken(m, 'operator', 'mcp:read mcp:write');
    mcp = await connectMcp(m, m.resources.readWrite, t.access_token);
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it('refuses the operator the users collection by default, like a reader', async (ctx) => {
    const r = await call(mcp, 'find', { database: 'admin', collection: 'system.users', filter: {} });
    expect(r.code, r.text).toBe('NAMESPACE_FORBIDDEN');
    expect(r.text).not.toMatch(CREDENTIALS);
    const line = (await auditWhere(m.auditLog.readWrite, (l) => l.tool === 'find' && l.username === 'operator' && l.namespace === 'admin.system.users')).at(
      -1,
    )?.line;
    expect(line).toMatchObject({ outcome: 'refused', errorCode: 'NAMESPACE_FORBIDDEN' });
    recordProof(ctx, {
      attack: 'operator (mcp:write): find admin.system.users via /mcp/admin',
      expected: 'NAMESPACE_FORBIDDEN (default, no allowReservedNamespaces)',
      observed: String(r.code),
    });
  });

  it.each(lookups)('refuses the operator an aggregation with %s', async (_what, pipeline) => {
    const r = await call(mcp, 'aggregate', { database: db, collection: 'orders', pipeline });
    expect(r.code, r.text).toBe('NAMESPACE_FORBIDDEN');
  });

  it('refuses writes into reserved namespaces by every write tool and stage, and nothing is written', async (ctx) => {
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['insert-many', { database: 'admin', collection: probe, documents: [{ injected: true }] }],
      ['insert-many', { database: db, collection: 'system.js', documents: [{ _id: probe, value: 'x' }] }],
      ['create-collection', { database: db, collection: `system.${probe}` }],
      ['create-index', { database: 'config', collection: probe, keys: { a: 1 } }],
      ['update-many', { database: 'Admin', collection: 'system.users', filter: {}, update: { $set: { injected: true } } }],
      ['rename-collection', { database: db, collection: probe, newName: 'system.views' }],
      ['delete-many', { database: 'local', collection: probe, filter: {} }],
      ['drop-collection', { database: 'config', collection: probe }],
      ['drop-index', { database: 'admin', collection: probe, indexName: 'a_1' }],
      ['drop-database', { database: 'LOCAL' }],
      ['aggregate', { database: db, collection: 'orders', pipeline: [{ $match: { _id: probe } }, { $out: { db: 'admin', coll: probe } }] }],
      ['aggregate', { database: db, collection: 'orders', pipeline: [{ $match: { _id: probe } }, { $merge: { into: { db: 'config', coll: probe } } }] }],
      ['aggregate', { database: db, collection: 'orders', pipeline: [{ $match: { _id: probe } }, { $out: `system.${probe}` }] }],
    ];
    for (const [name, args] of attempts) {
      const r = await call(mcp, name, args);
      expect(r.code, `${name} ${JSON.stringify(args)}: ${r.text}`).toBe('NAMESPACE_FORBIDDEN');
    }
    let observed = `${attempts.length} x NAMESPACE_FORBIDDEN`;
    if (canSeeDb) {
      const admin = new MongoClient(m.database.uri);
      try {
        for (const d of ['admin', 'config', db]) {
          const names = (await admin.db(d).listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
          expect(
            names.filter((n) => n.includes(probe)),
            d,
          ).toEqual([]);
        }
        observed += '; no probe collection in admin, config or the app database';
      } finally {
        await admin.close();
      }
    } else observed += ` (${NO_DB})`;
    recordProof(ctx, {
      attack: 'operator: 9 write tools + $out/$merge into admin/config/local/system.*',
      expected: 'NAMESPACE_FORBIDDEN, nothing written',
      observed,
    });
  });

  it('still serves the operator the application database', async () => {
    const r = await call(mcp, 'list-collections', { database: db });
    expect(r.isError, r.text).toBe(false);
    expect(r.text).toContain('orders');
  });
});

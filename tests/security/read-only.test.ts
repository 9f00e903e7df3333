/**
 * Read-only enforcement, attacked through the edge with a reader's token (client credentials, the
 * service agent): what a misbehaving agent can see and do on the read-only route.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { serviceAgentToken } from '../harness/tokens.ts';
import { connectMcp, errorCode, resultText, type McpSession } from '../harness/mcp.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');
const db = m.database.name;
// Natively the host reaches the database with the admin URI; under compose it sits on an internal network.
const canSeeDb = m.runtime === 'native';
const NO_DB = 'compose: the database is only reachable inside its internal network; runs natively';
const WRITE_TOOLS: Record<string, Record<string, unknown>> = {
  'insert-many': { database: db, collection: 'orders', documents: [{ injected: true }] },
  'create-index': { database: db, collection: 'orders', keys: { injected: 1 }, name: 'injected_1' },
  'create-collection': { database: db, collection: 'injected' },
  'update-many': { database: db, collection: 'orders', filter: {}, update: { $set: { injected: true } } },
  'rename-collection': { database: db, collection: 'orders', newName: 'stolen' },
  'delete-many': { database: db, collection: 'orders', filter: {} },
  'drop-collection': { database: db, collection: 'orders' },
  'drop-database': { database: db },
  'drop-index': { database: db, collection: 'orders', indexName: '_id_' },
};

describe('read-only enforcement through the edge', () => {
  let mcp: McpSession;
  let admin: MongoClient;
  let before: { orders: number | undefined; collections: string[] };

  const snapshot = async () => ({
    // $collStats reads collection metadata: exact, and fast where a full count is slow (FerretDB scans).
    orders: (
      await admin
        .db(db)
        .collection('orders')
        .aggregate<{ count: number }>([{ $collStats: { count: {} } }])
        .toArray()
    )[0]?.count,
    collections: (await admin.db(db).listCollections().toArray()).map((c) => c.name).sort(),
  });

  beforeAll(async () => {
    const t = await serviceAgentToken(m);
    mcp = await connectMcp(m, m.resources.readOnly, t.access_token);
    if (canSeeDb) {
      admin = new MongoClient(m.database.uri);
      await admin.connect();
      before = await snapshot();
    }
  });
  afterAll(async () => {
    await mcp?.close();
    await admin?.close();
  });

  it('lists no write tool to a reader', async (ctx) => {
    const { tools } = await mcp.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toContain('find');
    for (const w of Object.keys(WRITE_TOOLS)) expect(names).not.toContain(w);
    expect(tools.every((t) => t.annotations?.readOnlyHint === true)).toBe(true);
    recordProof(ctx, { attack: 'reader lists tools', expected: 'no create/update/delete tool', observed: `${names.length} read tools` });
  });

  it.each(Object.entries(WRITE_TOOLS))('refuses the write tool %s called by name with READ_ONLY and changes nothing', async (tool, args) => {
    const r = await mcp.client.callTool({ name: tool, arguments: args });
    expect(r.isError).toBe(true);
    expect(errorCode(r), resultText(r)).toBe('READ_ONLY');
    if (canSeeDb) expect(await snapshot()).toEqual(before);
  });

  // The exact code, never just "an error": FerretDB rejects $lookup, $out and $merge on its own, and a
  // database refusing an unsupported stage must not pass for the guard.
  const forbiddenPipelines: Array<[string, unknown[], string]> = [
    ['$out top-level', [{ $match: {} }, { $out: 'stolen' }], 'FORBIDDEN_STAGE'],
    ['$merge top-level', [{ $merge: { into: 'stolen' } }], 'FORBIDDEN_STAGE'],
    ['$out inside $facet', [{ $facet: { a: [{ $out: 'stolen' }] } }], 'FORBIDDEN_STAGE'],
    ['$merge inside a $lookup pipeline', [{ $lookup: { from: 'customers', pipeline: [{ $merge: { into: 'stolen' } }], as: 'x' } }], 'FORBIDDEN_STAGE'],
    ['$out inside a $unionWith pipeline', [{ $unionWith: { coll: 'customers', pipeline: [{ $out: 'stolen' }] } }], 'FORBIDDEN_STAGE'],
    ['$function in $addFields', [{ $addFields: { x: { $function: { body: 'function(){return 1}', args: [], lang: 'js' } } } }], 'SERVER_SIDE_JS_DISABLED'],
    [
      '$accumulator in $group',
      [
        {
          $group: {
            _id: null,
            x: { $accumulator: { init: 'function(){}', accumulate: 'function(){}', accumulateArgs: [], merge: 'function(){}', lang: 'js' } },
          },
        },
      ],
      'SERVER_SIDE_JS_DISABLED',
    ],
    ['$where in $match', [{ $match: { $where: 'sleep(10000) || true' } }], 'SERVER_SIDE_JS_DISABLED'],
  ];

  it.each(forbiddenPipelines)('refuses an aggregation with %s (%s) and writes nothing', async (what, pipeline, code) => {
    const r = await mcp.client.callTool({ name: 'aggregate', arguments: { database: db, collection: 'orders', pipeline } });
    expect(r.isError, `${what}: ${resultText(r)}`).toBe(true);
    expect(errorCode(r), `${what}: ${resultText(r)}`).toBe(code);
    if (canSeeDb) expect(await snapshot()).toEqual(before);
  });

  it('refuses $out smuggled through explain with FORBIDDEN_STAGE', async () => {
    const r = await mcp.client.callTool({
      name: 'explain',
      arguments: { database: db, collection: 'orders', method: [{ name: 'aggregate', arguments: { pipeline: [{ $out: 'stolen' }] } }] },
    });
    expect(errorCode(r), resultText(r)).toBe('FORBIDDEN_STAGE');
    if (canSeeDb) expect(await snapshot()).toEqual(before);
  });

  it('leaves the database unchanged after every refused call, checked with the admin URI', async (ctx) => {
    if (!canSeeDb) return ctx.skip(NO_DB);
    expect(await snapshot()).toEqual(before);
    recordProof(ctx, {
      attack: '9 write tools + 8 forbidden pipelines + explain, as a reader',
      expected: 'database unchanged',
      observed: `${before.orders} orders, ${before.collections.length} collections, as before`,
    });
  });

  it('refuses $where in a find filter with SERVER_SIDE_JS_DISABLED', async () => {
    const r = await mcp.client.callTool({ name: 'find', arguments: { database: db, collection: 'orders', filter: { $where: 'true' } } });
    expect(errorCode(r), resultText(r)).toBe('SERVER_SIDE_JS_DISABLED');
  });

  it('caps the documents a find returns at the configured maximum', async () => {
    const r = await mcp.client.callTool({ name: 'find', arguments: { database: db, collection: 'orders', filter: {}, limit: 100_000 } });
    expect(r.isError).toBeFalsy();
    const text = resultText(r);
    const docs = (text.match(/"_id"/g) ?? []).length;
    expect(docs).toBeGreaterThan(0);
    expect(docs).toBeLessThanOrEqual(100);
  });

  it('answers reads with real data', async () => {
    const r = await mcp.client.callTool({ name: 'find', arguments: { database: db, collection: 'orders', filter: {}, limit: 3 } });
    expect(r.isError).toBeFalsy();
    expect((resultText(r).match(/"_id"/g) ?? []).length).toBe(3);
  });
});

describe('read-only enforcement by the database itself', () => {
  it('refuses a write from the reader database user even when the MCP layer is bypassed', async (ctx) => {
    if (!canSeeDb) return ctx.skip(NO_DB);
    if (m.database.kind !== 'mongod')
      return ctx.skip('FerretDB has no roles: the reader user could write; runs where mongod exists (compose, or mongod on PATH)');
    const { readFile } = await import('node:fs/promises');
    const password = (await readFile(`${m.secretsDir}/db_reader_password`, 'utf8')).trim();
    const uri = new URL(m.database.uri);
    uri.username = 'mcp_reader';
    uri.password = encodeURIComponent(password);
    uri.searchParams.set('authSource', 'admin');
    const reader = new MongoClient(uri.toString());
    try {
      await expect(reader.db(db).collection('orders').insertOne({ injected: true })).rejects.toThrow(/not authorized|Unauthorized/i);
      recordProof(ctx, { attack: 'reader DB user inserts directly', expected: 'MongoDB refuses (RBAC)', observed: 'not authorized' });
    } finally {
      await reader.close();
    }
  });
});

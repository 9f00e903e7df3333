/**
 * The per-caller, per-namespace policy (issue #13; policies/mcp-ro.cedar, policies/mcp-rw.cedar), attacked
 * through the edge with real tokens: the service agent (client credentials: a machine), the analyst (logged in
 * with a real browser, PKCE) and the operator. Allowed calls return data; denied ones are refused by the MCP
 * server with POLICY_DENIED naming the rule, audited with it — on every path to shop.customers: the tool's own
 * collection, $lookup, $graphLookup, $unionWith, $facet, explain, resources/read, listings, tools/list.
 * FerretDB executes no $lookup/$unionWith, so a refusal with POLICY_DENIED (not a database error) proves the
 * policy decided before the database saw the pipeline. The edge's Mcp-Name pre-filter is checked too.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MongoClient } from 'mongodb';
import type { Browser } from 'playwright-core';
import { browserLogin, launchChromium, NO_CHROMIUM } from '../harness/browser.ts';
import { serviceAgentToken, userToken } from '../harness/tokens.ts';
import { connectMcp, errorCode, fencedData, resultText, type McpSession } from '../harness/mcp.ts';
import { auditWhere } from '../harness/audit.ts';
import { rawRequest } from '../harness/http.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');
const db = m.database.name;
const PERSONAL = /customer\d+@example\.com|"email"|"address"|postalCode/;
const lookup = (from: string) => ({ $lookup: { from, localField: 'customerId', foreignField: '_id', as: 'c' } });

async function call(s: McpSession, name: string, args: Record<string, unknown>) {
  const r = await s.client.callTool({ name, arguments: args });
  return { code: errorCode(r), text: resultText(r), r };
}

const CUSTOMER_PATHS: Array<[string, string, Record<string, unknown>]> = [
  ['find on customers', 'find', { database: db, collection: 'customers', filter: {}, limit: 1 }],
  ['count on customers', 'count', { database: db, collection: 'customers' }],
  ['collection-schema of customers', 'collection-schema', { database: db, collection: 'customers' }],
  ['$lookup from customers', 'aggregate', { database: db, collection: 'orders', pipeline: [lookup('customers')] }],
  ['$unionWith customers', 'aggregate', { database: db, collection: 'orders', pipeline: [{ $unionWith: 'customers' }] }],
  [
    '$unionWith {db, coll: Customers}',
    'aggregate',
    { database: db, collection: 'orders', pipeline: [{ $unionWith: { db: db.toUpperCase(), coll: 'Customers' } }] },
  ],
  [
    '$graphLookup from customers',
    'aggregate',
    {
      database: db,
      collection: 'orders',
      pipeline: [{ $graphLookup: { from: 'customers', startWith: '$customerId', connectFromField: '_id', connectToField: '_id', as: 'g' } }],
    },
  ],
  [
    '$lookup inside a $facet branch',
    'aggregate',
    { database: db, collection: 'orders', pipeline: [{ $facet: { ok: [{ $limit: 1 }], leak: [lookup('customers')] } }] },
  ],
  [
    '$lookup in a $unionWith sub-pipeline',
    'aggregate',
    { database: db, collection: 'orders', pipeline: [{ $unionWith: { coll: 'products', pipeline: [lookup('customers')] } }] },
  ],
  [
    'explain of a $lookup from customers',
    'explain',
    { database: db, collection: 'orders', method: [{ name: 'aggregate', arguments: { pipeline: [lookup('customers')] } }] },
  ],
];

describe('the service agent (client credentials: a machine)', () => {
  let s: McpSession;
  beforeAll(async () => {
    const t = await serviceAgentToken(m);
    s = await connectMcp(m, m.resources.readOnly, t.access_token);
  });
  afterAll(async () => s?.close());

  it('reads orders and products', async (ctx) => {
    const orders = await call(s, 'find', { database: db, collection: 'orders', filter: {}, limit: 2 });
    expect(orders.code, orders.text).toBeUndefined();
    expect(fencedData(orders.r)).toContain('customerId');
    const products = await call(s, 'count', { database: db, collection: 'products' });
    expect(products.code, products.text).toBeUndefined();
    expect(products.text).toMatch(/500/);
    const line = (
      await auditWhere(m.auditLog.readOnly, (l) => l.tool === 'find' && l.namespace === `${db}.orders` && l.policyRule === 'machine-reads-orders-products')
    ).at(-1)?.line;
    expect(line).toMatchObject({ outcome: 'ok', policyRule: 'machine-reads-orders-products' });
    recordProof(ctx, {
      attack: 'service agent: find orders, count products via /mcp',
      expected: 'served; audit policyRule machine-reads-orders-products',
      observed: `find ok, count ${products.text.match(/\d+/)?.[0]}, audit ${String(line?.policyRule)}`,
    });
  });

  it.each(CUSTOMER_PATHS)('refuses %s with POLICY_DENIED machine-never-customers, before the database, audited with the rule', async (what, name, args) => {
    const r = await call(s, name, args);
    expect(r.code, r.text).toBe('POLICY_DENIED');
    expect(r.text).toContain('machine-never-customers');
    expect(r.text).not.toMatch(PERSONAL);
    const line = (
      await auditWhere(m.auditLog.readOnly, (l) => l.tool === name && l.errorCode === 'POLICY_DENIED' && l.policyRule === 'machine-never-customers')
    ).at(-1)?.line;
    expect(line, what).toMatchObject({ outcome: 'refused' });
  });

  it('refuses every path to shop.customers — direct, $lookup, $unionWith, $graphLookup, $facet, explain — and records the proof', async (ctx) => {
    const codes = await Promise.all(CUSTOMER_PATHS.map(async ([what, name, args]) => `${what}: ${(await call(s, name, args)).code}`));
    expect(codes.every((c) => c.endsWith('POLICY_DENIED'))).toBe(true);
    recordProof(ctx, {
      attack: 'service agent: shop.customers on 10 paths (direct, $lookup, $unionWith, $graphLookup, $facet, explain)',
      expected: 'POLICY_DENIED machine-never-customers each, before the database',
      observed: codes.join('; '),
    });
  });

  it('refuses a resources/read of the customers schema view with POLICY_DENIED', async (ctx) => {
    const err = await s.client.readResource({ uri: `mongodb://${db}/customers/schema` }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/POLICY_DENIED.*machine-never-customers/);
    recordProof(ctx, {
      attack: `service agent: resources/read mongodb://${db}/customers/schema`,
      expected: '-32602 POLICY_DENIED',
      observed: String(err?.message.slice(0, 120)),
    });
  });

  it('does not list customers among the collections, nor any write tool in tools/list', async (ctx) => {
    const list = await call(s, 'list-collections', { database: db });
    expect(fencedData(list.r)).toContain('orders');
    expect(fencedData(list.r)).not.toContain('customers');
    const tools = (await s.client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain('find');
    for (const w of ['insert-many', 'update-many', 'delete-many', 'drop-database']) expect(tools).not.toContain(w);
    recordProof(ctx, {
      attack: 'service agent: list-collections shop, tools/list',
      expected: 'customers hidden; only tools it may use',
      observed: `collections ${fencedData(list.r).replace(/\s+/g, '')}; ${tools.length} tools`,
    });
  });
});

describe('the analyst (a person, logged in with a browser)', () => {
  let browser: Browser | undefined;
  let s: McpSession | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
    if (browser) s = await connectMcp(m, m.resources.readOnly, await browserLogin(m, browser, 'analyst', 'mcp:read'));
  });
  afterAll(async () => {
    await s?.close();
    await browser?.close();
  });

  it('reads customers with the personal fields removed, in find and aggregate', async (ctx) => {
    if (!s) return ctx.skip(NO_CHROMIUM);
    const found = await call(s, 'find', { database: db, collection: 'customers', filter: { tier: 'gold' }, limit: 3 });
    expect(found.code, found.text).toBeUndefined();
    const docs = fencedData(found.r);
    expect(docs).toContain('tier');
    expect(docs).not.toMatch(PERSONAL);
    // A $group on the e-mail would leak it as the group key: the $unset the server prepends removes it first.
    const grouped = await call(s, 'aggregate', { database: db, collection: 'customers', pipeline: [{ $group: { _id: '$email' } }, { $limit: 3 }] });
    expect(grouped.code, grouped.text).toBeUndefined();
    expect(fencedData(grouped.r)).not.toMatch(PERSONAL);
    const line = (
      await auditWhere(m.auditLog.readOnly, (l) => l.tool === 'find' && l.namespace === `${db}.customers` && l.policyRule === 'analyst-customers-redacted')
    ).at(-1)?.line;
    expect(line).toMatchObject({ outcome: 'ok' });
    recordProof(ctx, {
      attack: 'analyst (browser login): find customers; aggregate $group by $email',
      expected: 'served without name/email/address',
      observed: `no personal field in either answer; audit ${String(line?.policyRule)}`,
    });
  });

  it('refuses a filter on a personal field with POLICY_DENIED (a count of matches would leak it)', async (ctx) => {
    if (!s) return ctx.skip(NO_CHROMIUM);
    const r = await call(s, 'count', { database: db, collection: 'customers', query: { email: { $regex: '^customer1' } } });
    expect(r.code, r.text).toBe('POLICY_DENIED');
    recordProof(ctx, { attack: 'analyst: count customers where email ~ ^customer1', expected: 'POLICY_DENIED', observed: String(r.code) });
  });

  it('refuses customers reached through $lookup or $unionWith with POLICY_DENIED analyst-no-indirect-customers', async (ctx) => {
    if (!s) return ctx.skip(NO_CHROMIUM);
    for (const pipeline of [[lookup('customers')], [{ $unionWith: 'customers' }], [{ $facet: { a: [lookup('customers')] } }]]) {
      const r = await call(s, 'aggregate', { database: db, collection: 'orders', pipeline });
      expect(r.code, r.text).toBe('POLICY_DENIED');
      expect(r.text).toContain('analyst-no-indirect-customers');
    }
    recordProof(ctx, {
      attack: 'analyst: orders $lookup/$unionWith/$facet→customers',
      expected: 'POLICY_DENIED analyst-no-indirect-customers',
      observed: 'as expected (3 paths)',
    });
  });

  it('reads orders, and is shown no write tool', async (ctx) => {
    if (!s) return ctx.skip(NO_CHROMIUM);
    const r = await call(s, 'find', { database: db, collection: 'orders', filter: {}, limit: 1 });
    expect(r.code, r.text).toBeUndefined();
    expect((await s.client.listTools()).tools.map((t) => t.name)).not.toContain('insert-many');
    expect(fencedData((await call(s, 'list-collections', { database: db })).r)).toContain('customers');
    recordProof(ctx, { attack: 'analyst: find orders; tools/list', expected: 'served; no write tool listed', observed: 'as expected' });
  });
});

describe('the operator (read-write resource)', () => {
  let s: McpSession;
  const coll = `policy_${Date.now().toString(36)}`;
  beforeAll(async () => {
    const t = await userToken(m, 'operator', 'mcp:read mcp:write');
    s = await connectMcp(m, m.resources.readWrite, t.access_token);
  });
  afterAll(async () => {
    await s?.close();
    // The scratch collection goes with the database's admin (a drop through MCP would need the user's approval).
    if (m.runtime !== 'native') return;
    const admin = new MongoClient(m.database.uri);
    await admin
      .db(db)
      .collection(coll)
      .drop()
      .catch(() => undefined);
    await admin.close();
  });

  it('writes in shop, and reads customers unredacted', async (ctx) => {
    const ins = await call(s, 'insert-many', { database: db, collection: coll, documents: [{ a: 1 }] });
    expect(ins.code, ins.text).toBeUndefined();
    const c = await call(s, 'find', { database: db, collection: 'customers', filter: {}, limit: 1 });
    expect(fencedData(c.r)).toMatch(/@example\.com/);
    const line = (await auditWhere(m.auditLog.readWrite, (l) => l.tool === 'insert-many' && l.namespace === `${db}.${coll}`)).at(-1)?.line;
    expect(line).toMatchObject({ outcome: 'ok', policyRule: 'writer-writes-shop' });
    recordProof(ctx, {
      attack: 'operator: insert-many in shop; find customers',
      expected: 'served (writer-writes-shop); customers unredacted',
      observed: `insert ${String(line?.outcome)}, e-mail visible`,
    });
  });

  it('is refused a write outside shop with POLICY_DENIED default-deny', async (ctx) => {
    const r = await call(s, 'insert-many', { database: 'elsewhere', collection: 'x', documents: [{ a: 1 }] });
    expect(r.code, r.text).toBe('POLICY_DENIED');
    expect(r.text).toContain('default-deny');
    recordProof(ctx, { attack: 'operator: insert-many into elsewhere.x', expected: 'POLICY_DENIED default-deny', observed: String(r.code) });
  });

  it('is shown the write tools in tools/list', async () => {
    expect((await s.client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['insert-many', 'drop-collection', 'drop-database']));
  });
});

describe("the edge's Mcp-Name pre-filter (SEP-2243), never instead of the server", () => {
  const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const body = (name: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { database: db } } });

  it('answers a write tool named on the read-only resource with 403 insufficient_scope, stepping up to the read-write resource, and audits the name', async (ctx) => {
    const t = await userToken(m, 'operator', 'mcp:read');
    const r = await rawRequest(m, {
      method: 'POST',
      path: new URL(m.resources.readOnly).pathname,
      headers: { ...mcpHeaders, authorization: `Bearer ${t.access_token}`, 'mcp-method': 'tools/call', 'mcp-name': 'drop-database' },
      body: body('drop-database'),
    });
    expect(r.status).toBe(403);
    const challenge = String(r.headers['www-authenticate']);
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="mcp:write"');
    expect(challenge).toContain('/.well-known/oauth-protected-resource/mcp/admin');
    const line = (await auditWhere(m.auditLog.verifier, (l) => (l as { code?: string }).code === 'write_tool_on_read_route')).at(-1)?.line as
      | Record<string, unknown>
      | undefined;
    expect(line).toMatchObject({ outcome: 'refuse', mcpName: 'drop-database' });
    recordProof(ctx, {
      attack: 'operator token: tools/call drop-database with Mcp-Name on /mcp',
      expected: '403 insufficient_scope, step-up to /mcp/admin (mcp:write), verifier audit mcpName',
      observed: `${r.status} ${challenge.slice(0, 80)}…`,
    });
  });

  it('lets a request whose Mcp-Name lies (find) through the edge, and the server refuses the mismatch itself', async (ctx) => {
    const t = await userToken(m, 'operator', 'mcp:read mcp:write');
    const s = await connectMcp(m, m.resources.readWrite, t.access_token, { 'mcp-name': 'find' });
    try {
      // On a 2025-era session our dispatch refuses it (HEADER_MISMATCH); on 2026-07-28 the SDK does (-32020).
      const outcome = await s.client.callTool({ name: 'drop-database', arguments: { database: db } }).then(
        (r) => String(errorCode(r)),
        (e: Error) => (/-32020|Mcp-Name/.test(e.message) ? '-32020' : `threw ${e.message.slice(0, 80)}`),
      );
      expect(['HEADER_MISMATCH', '-32020']).toContain(outcome);
      const orders = await call(s, 'count', { database: db, collection: 'orders' }).catch(() => null);
      recordProof(ctx, {
        attack: 'operator: Mcp-Name "find" on a tools/call drop-database via /mcp/admin',
        expected: 'the server refuses the mismatch; nothing dropped',
        observed: `${outcome}; orders still counted: ${orders?.code ?? 'refused (Mcp-Name find ≠ count)'}`,
      });
    } finally {
      await s.close();
    }
  });
});

/**
 * The shipped policy files (policies/mcp-ro.cedar, policies/mcp-rw.cedar), rule by rule, both outcomes: each
 * row is one caller, one tool call, and the decision with the rule that made it. Pure: the real Cedar engine
 * over the real files, no database (server/src/policy/*).
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PolicyEngine, DEFAULT_DENY } from '../../src/policy/engine.ts';
import { authorizeCall, INDIRECT_RULE } from '../../src/policy/authorize.ts';
import { PolicyDenied } from '../../src/policy/denied.ts';
import { ALL_TOOLS } from '../../src/tools/registry.ts';
import { CALLERS } from './helpers/policy-callers.ts';

const POLICIES = resolve(import.meta.dirname, '../../../policies');
const ro = PolicyEngine.fromFile(`${POLICIES}/mcp-ro.cedar`, ALL_TOOLS, true);
const rw = PolicyEngine.fromFile(`${POLICIES}/mcp-rw.cedar`, ALL_TOOLS, false);

type Caller = keyof typeof CALLERS;

const tool = (name: string) => {
  const t = ALL_TOOLS.find((x) => x.name === name);
  if (!t) throw new Error(name);
  return t;
};
const on = (collection: string, extra: Record<string, unknown> = {}) => ({ database: 'shop', collection, ...extra });
const lookupCustomers = [{ $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'c' } }];

/** `allow:<rule>` or `deny:<rule>`, as authorizeCall decides. */
function decide(engine: PolicyEngine, who: Caller, name: string, args: Record<string, unknown>): string {
  try {
    return `allow:${authorizeCall(engine, tool(name), args, CALLERS[who]).rule}`;
  } catch (e) {
    if (e instanceof PolicyDenied) return `deny:${e.rule}`;
    throw e;
  }
}

type Row = [string, Caller, string, Record<string, unknown>, string];

const READ_ROWS: Row[] = [
  // machine-reads-orders-products
  ['machine finds orders', 'machine', 'find', on('orders'), 'allow:machine-reads-orders-products'],
  ['machine counts products', 'machine', 'count', on('products'), 'allow:machine-reads-orders-products'],
  ['machine reads the indexes of orders (metadata)', 'machine', 'collection-indexes', on('orders'), 'allow:machine-reads-orders-products'],
  ['machine finds in another collection of shop', 'machine', 'find', on('reviews'), `deny:${DEFAULT_DENY}`],
  // machine-lists-shop
  ['machine lists databases', 'machine', 'list-databases', {}, 'allow:machine-lists-shop'],
  ['machine lists the collections of shop', 'machine', 'list-collections', { database: 'shop' }, 'allow:machine-lists-shop'],
  ['machine lists the collections of another database', 'machine', 'list-collections', { database: 'crm' }, `deny:${DEFAULT_DENY}`],
  // machine-never-customers: direct and every indirect path
  ['machine finds customers', 'machine', 'find', on('customers'), 'deny:machine-never-customers'],
  ['machine reads the schema of customers (metadata)', 'machine', 'collection-schema', on('customers'), 'deny:machine-never-customers'],
  ['machine $lookup from customers', 'machine', 'aggregate', on('orders', { pipeline: lookupCustomers }), 'deny:machine-never-customers'],
  ['machine $unionWith customers', 'machine', 'aggregate', on('orders', { pipeline: [{ $unionWith: 'customers' }] }), 'deny:machine-never-customers'],
  [
    'machine $unionWith {coll: customers}',
    'machine',
    'aggregate',
    on('orders', { pipeline: [{ $unionWith: { coll: 'customers', pipeline: [] } }] }),
    'deny:machine-never-customers',
  ],
  [
    'machine $graphLookup from customers',
    'machine',
    'aggregate',
    on('orders', { pipeline: [{ $graphLookup: { from: 'customers', startWith: '$customerId', connectFromField: '_id', connectToField: '_id', as: 'g' } }] }),
    'deny:machine-never-customers',
  ],
  ['machine $lookup inside $facet', 'machine', 'aggregate', on('orders', { pipeline: [{ $facet: { a: lookupCustomers } }] }), 'deny:machine-never-customers'],
  [
    'machine $lookup in a $unionWith sub-pipeline',
    'machine',
    'aggregate',
    on('orders', { pipeline: [{ $unionWith: { coll: 'products', pipeline: lookupCustomers } }] }),
    'deny:machine-never-customers',
  ],
  [
    'machine explains a $lookup from customers',
    'machine',
    'explain',
    on('orders', { method: [{ name: 'aggregate', arguments: { pipeline: lookupCustomers } }] }),
    'deny:machine-never-customers',
  ],
  ['machine names Customers in another case', 'machine', 'find', { database: 'SHOP', collection: 'Customers' }, 'deny:machine-never-customers'],
  [
    'machine $lookup from products (allowed target)',
    'machine',
    'aggregate',
    on('orders', { pipeline: [{ $lookup: { from: 'products', localField: 'productId', foreignField: '_id', as: 'p' } }] }),
    'allow:machine-reads-orders-products',
  ],
  // reader-reads-shop
  ['analyst finds orders', 'analyst', 'find', on('orders'), 'allow:reader-reads-shop'],
  ['analyst finds in another database', 'analyst', 'find', { database: 'crm', collection: 'orders' }, `deny:${DEFAULT_DENY}`],
  ['a person without MCP roles finds orders', 'nobody', 'find', on('orders'), `deny:${DEFAULT_DENY}`],
  // reader-lists-databases
  ['analyst lists databases', 'analyst', 'list-databases', {}, 'allow:reader-lists-databases'],
  ['a person without MCP roles lists databases', 'nobody', 'list-databases', {}, `deny:${DEFAULT_DENY}`],
  // analyst-customers-redacted (allowed, with the obligation; redaction itself: policy-redact.test.ts)
  ['analyst finds customers (redacted)', 'analyst', 'find', on('customers'), 'allow:analyst-customers-redacted'],
  [
    'analyst aggregates customers (redacted)',
    'analyst',
    'aggregate',
    on('customers', { pipeline: [{ $group: { _id: '$country', n: { $sum: 1 } } }] }),
    'allow:analyst-customers-redacted',
  ],
  ['operator finds customers: no redaction rule applies', 'operator', 'collection-schema', on('customers'), 'allow:reader-reads-shop'],
  // analyst-no-indirect-customers
  ['analyst $lookup from customers', 'analyst', 'aggregate', on('orders', { pipeline: lookupCustomers }), 'deny:analyst-no-indirect-customers'],
  ['analyst $unionWith customers', 'analyst', 'aggregate', on('orders', { pipeline: [{ $unionWith: 'customers' }] }), 'deny:analyst-no-indirect-customers'],
  ['operator $lookup from customers', 'operator', 'aggregate', on('orders', { pipeline: lookupCustomers }), 'allow:reader-reads-shop'],
  ['operator finds customers unredacted', 'operator', 'find', on('customers'), 'allow:reader-reads-shop'],
];

const WRITE_ROWS: Row[] = [
  // writer-writes-shop
  ['operator inserts into orders', 'operator', 'insert-many', on('orders', { documents: [{}] }), 'allow:writer-writes-shop'],
  ['operator renames orders to orders2', 'operator', 'rename-collection', on('orders', { newName: 'orders2' }), 'allow:writer-writes-shop'],
  ['operator inserts into another database', 'operator', 'insert-many', { database: 'crm', collection: 'x', documents: [{}] }, `deny:${DEFAULT_DENY}`],
  ['analyst inserts into orders', 'analyst', 'insert-many', on('orders', { documents: [{}] }), `deny:${DEFAULT_DENY}`],
  ['machine deletes from orders', 'machine', 'delete-many', on('orders', { filter: { a: 1 } }), `deny:${DEFAULT_DENY}`],
  ['machine $out into customers', 'machine', 'aggregate', on('orders', { pipeline: [{ $out: 'customers' }] }), 'deny:machine-never-customers'],
  // writer-drop-needs-approval
  ['operator drops a collection (approval)', 'operator', 'drop-collection', on('orders'), 'allow:writer-drop-needs-approval'],
  ['operator drops the database (approval)', 'operator', 'drop-database', { database: 'shop' }, 'allow:writer-drop-needs-approval'],
  ['operator deletes from orders (no approval rule)', 'operator', 'delete-many', on('orders', { filter: { a: 1 } }), 'allow:writer-writes-shop'],
  ['analyst drops a collection', 'analyst', 'drop-collection', on('orders'), `deny:${DEFAULT_DENY}`],
];

describe('mcp-ro.cedar: every read rule, both outcomes', () => {
  it.each(READ_ROWS)('%s → %s', (_name, who, name, args, expected) => {
    expect(decide(ro, who, name, args)).toBe(expected);
  });
});

describe("mcp-rw.cedar: the read rules hold on the read-write tier too, and the writers' rules", () => {
  it.each([...READ_ROWS, ...WRITE_ROWS])('%s → %s', (_name, who, name, args, expected) => {
    expect(decide(rw, who, name, args)).toBe(expected);
  });

  it('mcp-ro.cedar grants no write to anyone (the tier refuses writes anyway: READ_ONLY)', () => {
    for (const [, who, name, args] of WRITE_ROWS.filter(([, , n]) => n !== 'aggregate')) expect(decide(ro, who, name, args)).toMatch(/^deny:/);
  });
});

describe('obligations', () => {
  it('asks for approval of drop-database and drop-collection by the operator, and of nothing else', () => {
    expect(authorizeCall(rw, tool('drop-database'), { database: 'shop' }, CALLERS.operator).approval).toBe('writer-drop-needs-approval');
    expect(authorizeCall(rw, tool('drop-collection'), on('orders'), CALLERS.operator).approval).toBe('writer-drop-needs-approval');
    expect(authorizeCall(rw, tool('delete-many'), on('orders', { filter: { a: 1 } }), CALLERS.operator).approval).toBeNull();
    expect(authorizeCall(rw, tool('find'), on('orders'), CALLERS.operator).approval).toBeNull();
  });

  it('redacts customers for the analyst and not for the operator', () => {
    const analyst = authorizeCall(ro, tool('aggregate'), on('customers', { pipeline: [] }), CALLERS.analyst).args;
    expect(analyst.pipeline).toEqual([{ $unset: ['name', 'email', 'address'] }]);
    const operator = authorizeCall(ro, tool('aggregate'), on('customers', { pipeline: [] }), CALLERS.operator).args;
    expect(operator.pipeline).toEqual([]);
  });

  it('refuses a redacted collection reached through a stage even when no forbid names it (engine rule)', () => {
    const noForbid = PolicyEngine.fromText(`@id("all") @redact("email") permit (principal, action, resource);`, ALL_TOOLS, true);
    expect(decide(noForbid, 'analyst', 'aggregate', on('orders', { pipeline: lookupCustomers }))).toBe(`deny:${INDIRECT_RULE}`);
  });
});

describe('tools/list view', () => {
  const visible = (engine: PolicyEngine, who: Caller) => ALL_TOOLS.filter((t) => engine.mayUse(CALLERS[who], t)).map((t) => t.name);

  it('shows a machine the read and metadata tools it may use, and no write tool', () => {
    const names = visible(rw, 'machine');
    expect(names).toEqual(expect.arrayContaining(['find', 'aggregate', 'count', 'list-databases', 'list-collections']));
    expect(names).not.toContain('insert-many');
    expect(names).not.toContain('drop-database');
  });

  it('shows the operator the write tools and the analyst none', () => {
    expect(visible(rw, 'operator')).toEqual(expect.arrayContaining(['insert-many', 'drop-database', 'drop-collection', 'find']));
    expect(visible(rw, 'analyst').filter((n) => ['insert-many', 'update-many', 'delete-many', 'drop-database'].includes(n))).toEqual([]);
  });

  it('shows a caller without MCP roles nothing', () => {
    expect(visible(rw, 'nobody')).toEqual([]);
  });
});

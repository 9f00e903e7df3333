import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { enforceQueryPolicy } from '../../src/guard/query-policy.ts';
import { allowanceFrom, collectionVisible, databaseVisible } from '../../src/guard/namespace-policy.ts';
import { inspect } from '../../src/guard/pipeline-guard.ts';
import { ToolError } from '../../src/errors.ts';
import { parseConfig } from '../../src/config/parse.ts';
import { READ_SCOPE, WRITE_SCOPE } from '../../src/identity/identity.ts';

const writer = { subject: 'u1', username: 'operator', clientId: 'agent', scopes: [READ_SCOPE, WRITE_SCOPE] };

/** The code a call with these arguments is refused with, or null when it may reach the database. */
function decide(args: Record<string, unknown>, allowReservedNamespaces: string[] = []): string | null {
  try {
    enforceQueryPolicy(args, { readOnly: false, disableServerSideJs: true, allowReservedNamespaces }, writer);
    return null;
  } catch (err) {
    if (err instanceof ToolError) return err.code;
    throw err;
  }
}

const ns = (database: string, collection?: string) => (collection === undefined ? { database } : { database, collection });
const agg = (pipeline: unknown[]) => ({ database: 'shop', collection: 'orders', pipeline });
const FORBIDDEN = 'NAMESPACE_FORBIDDEN';
const INVALID = 'INVALID_ARGUMENT';

describe('namespace policy: the reserved databases and system collections are refused by default', () => {
  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['the users collection of admin', ns('admin', 'system.users'), FORBIDDEN],
    ['any collection of admin', ns('admin', 'orders'), FORBIDDEN],
    ['the admin database alone (list-collections, db-stats, drop-database)', ns('admin'), FORBIDDEN],
    ['the oplog in local', ns('local', 'oplog.rs'), FORBIDDEN],
    ['the sessions in config', ns('config', 'system.sessions'), FORBIDDEN],
    ['config.transactions', ns('config', 'transactions'), FORBIDDEN],
    ['Admin (database names are case-insensitive in MongoDB)', ns('Admin', 'system.users'), FORBIDDEN],
    ['ADMIN', ns('ADMIN'), FORBIDDEN],
    ['admin with surrounding whitespace', ns(' admin '), FORBIDDEN],
    ['admin with a zero-width space inside', ns('ad\u200bmin'), FORBIDDEN],
    ['admin in full-width letters', ns('\uff41\uff44\uff4d\uff49\uff4e'), FORBIDDEN],
    ['admin followed by NUL', ns('admin\u0000x'), FORBIDDEN],
    ['admin followed by a dot', ns('admin.system', 'users'), FORBIDDEN],
    ['system.users in an ordinary database', ns('shop', 'system.users'), FORBIDDEN],
    ['system.* in any case', ns('shop', 'System.Profile'), FORBIDDEN],
    ['system.* behind whitespace', ns('shop', '  system.views'), FORBIDDEN],
    ['system.* behind a zero-width character', ns('shop', 'sys\u200btem.js'), FORBIDDEN],
    ['a system. segment after a dot', ns('shop', 'admin.system.users'), FORBIDDEN],
    ['a rename onto a system collection', { ...ns('shop', 'orders'), newName: 'system.views' }, FORBIDDEN],
    ['a whitespace-only database name', ns('   '), INVALID],
    ['a database name with a space', ns('sh op'), INVALID],
    ['a database name with a slash', ns('a/b'), INVALID],
    ['a database name with $', ns('shop$'), INVALID],
    ['a database name with NUL', ns('shop\u0000'), INVALID],
    ['a whitespace-only collection name', ns('shop', '  '), INVALID],
    ['the $cmd pseudo-collection', ns('shop', '$cmd'), INVALID],
    ['a collection name with NUL', ns('shop', 'a\u0000b'), INVALID],
  ];
  it.each(refused)('refuses %s', (_what, args, code) => {
    expect(decide(args)).toBe(code);
  });

  const served: Array<[string, Record<string, unknown>]> = [
    ['an ordinary collection', ns('shop', 'orders')],
    ['an ordinary database alone', ns('shop')],
    ['a database whose name only starts like a reserved one', ns('administration', 'orders')],
    ['a collection named system (no dot)', ns('shop', 'system')],
    ['a collection named systems.log', ns('shop', 'systems.log')],
    ['a collection whose name merely contains "system."', ns('shop', 'mysystem.log')],
    ['no namespace at all (list-databases)', {}],
    ['a rename to an ordinary name', { ...ns('shop', 'orders'), newName: 'orders_2025' }],
  ];
  it.each(served)('serves %s', (_what, args) => {
    expect(decide(args)).toBeNull();
  });
});

describe('namespace policy: stages that name another namespace, at any depth', () => {
  const refused: Array<[string, unknown[], string]> = [
    ['$lookup from a system collection', [{ $lookup: { from: 'system.users', localField: 'a', foreignField: 'b', as: 'x' } }], FORBIDDEN],
    ['$lookup from {db: admin, coll}', [{ $lookup: { from: { db: 'admin', coll: 'system.users' }, pipeline: [], as: 'x' } }], FORBIDDEN],
    ['$lookup from {db: Admin} in another case', [{ $lookup: { from: { db: 'Admin', coll: 'orders' }, pipeline: [], as: 'x' } }], FORBIDDEN],
    ['$lookup with a differently spelled key and From', [{ ' $LOOKUP ': { From: 'system.users', as: 'x' } }], FORBIDDEN],
    [
      '$graphLookup from a system collection',
      [{ $graphLookup: { from: 'system.views', startWith: '$a', connectFromField: 'a', connectToField: 'b', as: 'x' } }],
      FORBIDDEN,
    ],
    [
      '$graphLookup from {db: local}',
      [{ $graphLookup: { from: { db: 'local', coll: 'oplog.rs' }, startWith: '$a', connectFromField: 'a', connectToField: 'b', as: 'x' } }],
      FORBIDDEN,
    ],
    ['$unionWith a system collection (string form)', [{ $unionWith: 'system.users' }], FORBIDDEN],
    ['$unionWith {coll: system.*, pipeline}', [{ $unionWith: { coll: 'system.users', pipeline: [{ $match: {} }] } }], FORBIDDEN],
    ['$unionWith {db: admin, coll}', [{ $unionWith: { db: 'admin', coll: 'orders' } }], FORBIDDEN],
    ['$unionWith {coll: {db: config, coll}}', [{ $unionWith: { coll: { db: 'config', coll: 'transactions' } } }], FORBIDDEN],
    ['$lookup inside a $facet branch', [{ $facet: { a: [{ $match: {} }], b: [{ $lookup: { from: 'system.users', as: 'u', pipeline: [] } }] } }], FORBIDDEN],
    [
      '$unionWith inside a $lookup sub-pipeline inside $facet',
      [{ $facet: { a: [{ $lookup: { from: 'customers', as: 'c', pipeline: [{ $unionWith: { coll: 'x', db: 'admin' } }] } }] } }],
      FORBIDDEN,
    ],
    [
      '$graphLookup inside a $unionWith pipeline',
      [
        {
          $unionWith: {
            coll: 'customers',
            pipeline: [{ $graphLookup: { from: 'system.js', startWith: 1, connectFromField: 'a', connectToField: 'b', as: 'x' } }],
          },
        },
      ],
      FORBIDDEN,
    ],
    ['$out to another database', [{ $out: { db: 'admin', coll: 'system.users' } }], FORBIDDEN],
    ['$out to a system collection', [{ $out: 'system.views' }], FORBIDDEN],
    ['$merge into {db: config}', [{ $merge: { into: { db: 'config', coll: 'x' } } }], FORBIDDEN],
    ['$merge into a system collection (string)', [{ $merge: 'system.js' }], FORBIDDEN],
    ['$merge {into: system.*}', [{ $merge: { into: 'system.views', whenMatched: 'replace' } }], FORBIDDEN],
    ["$currentOp (other users' operations)", [{ $currentOp: { allUsers: true } }], FORBIDDEN],
    ['$listSessions', [{ $listSessions: { allUsers: true } }], FORBIDDEN],
    ['$listLocalSessions', [{ $listLocalSessions: {} }], FORBIDDEN],
    ['$changeStream for the whole cluster', [{ $changeStream: { allChangesForCluster: true } }], FORBIDDEN],
    ["$queryStats (every caller's queries)", [{ $queryStats: {} }], FORBIDDEN],
    ['$listCatalog', [{ $listCatalog: {} }], FORBIDDEN],
    ["$planCacheStats (other callers' query shapes)", [{ $planCacheStats: {} }], FORBIDDEN],
    ['$sql naming any namespace in a string', [{ $sql: { statement: 'SELECT * FROM admin.system.users' } }], FORBIDDEN],
    ['an internal $_ stage', [{ $_internalUnpackBucket: {} }], FORBIDDEN],
    ['a cluster stage inside $facet', [{ $facet: { a: [{ $currentOp: {} }] } }], FORBIDDEN],
    ['a db beside from, a syntax MongoDB lacks but a backend might take', [{ $lookup: { db: 'admin', from: 'orders', as: 'x' } }], FORBIDDEN],
    ['a db beside into in $merge', [{ $merge: { into: 'report', db: 'local' } }], FORBIDDEN],
    ['from wrapped as an Extended JSON symbol', [{ $lookup: { from: { $symbol: 'system.users' }, as: 'x' } }], INVALID],
    ['from as a number', [{ $lookup: { from: 5, as: 'x' } }], INVALID],
    ['a db that is not a string', [{ $unionWith: { db: { $symbol: 'admin' }, coll: 'x' } }], INVALID],
    ['$out to an empty object', [{ $out: {} }], INVALID],
    ['a namespace stage whose spec is neither a name nor an object', [{ $unionWith: ['system.users'] }], INVALID],
  ];
  it.each(refused)('refuses an aggregation with %s', (_what, pipeline, code) => {
    expect(decide(agg(pipeline))).toBe(code);
  });

  it('refuses the same stages smuggled through explain and through an update pipeline', () => {
    const pipeline = [{ $lookup: { from: 'system.users', as: 'x', pipeline: [] } }];
    expect(decide({ ...ns('shop', 'orders'), method: [{ name: 'aggregate', arguments: { pipeline } }] })).toBe(FORBIDDEN);
    expect(decide({ ...ns('shop', 'orders'), filter: {}, update: [{ $set: { a: 1 } }, ...pipeline] })).toBe(FORBIDDEN);
  });

  const served: Array<[string, unknown[]]> = [
    ['$lookup from an ordinary collection', [{ $lookup: { from: 'customers', localField: 'c', foreignField: '_id', as: 'c' } }]],
    ['$lookup from {db, coll} in an ordinary database', [{ $lookup: { from: { db: 'shop', coll: 'customers' }, pipeline: [], as: 'c' } }]],
    ['$lookup with a pipeline and no from', [{ $lookup: { pipeline: [{ $documents: [{ a: 1 }] }], as: 'c' } }]],
    ['$unionWith an ordinary collection', [{ $unionWith: { coll: 'customers', pipeline: [{ $match: {} }] } }]],
    ['$unionWith a $documents pipeline only', [{ $unionWith: { pipeline: [{ $documents: [{ a: 1 }] }] } }]],
    ['$out to an ordinary collection (write scope)', [{ $out: 'report' }]],
    ['$merge into {db, coll} in an ordinary database', [{ $merge: { into: { db: 'shop', coll: 'report' } } }]],
    ['$collStats and $indexStats (the named collection only)', [{ $collStats: { count: {} } }, { $indexStats: {} }]],
    ['a reserved name that is only a value', [{ $match: { note: 'admin.system.users' } }, { $project: { x: '$system.users' } }]],
  ];
  it.each(served)('serves an aggregation with %s', (_what, pipeline) => {
    expect(decide(agg(pipeline))).toBeNull();
  });

  it('reports each namespace-naming stage with its path, sub-pipelines included', () => {
    const found = inspect([{ $facet: { a: [{ $lookup: { from: 'c', as: 'c', pipeline: [{ $unionWith: 'd' }] } }] } }], 'pipeline').namespaceStages;
    expect(found.map((f) => [f.stage, f.path])).toEqual([
      ['$lookup', 'pipeline[0].$facet.a[0].$lookup'],
      ['$unionwith', 'pipeline[0].$facet.a[0].$lookup.pipeline[0].$unionWith'],
    ]);
  });

  it('names the rule in a refusal, never the data, and keeps a huge operator name short', () => {
    const refusal = (args: Record<string, unknown>) => {
      try {
        enforceQueryPolicy(args, { readOnly: false, disableServerSideJs: true, allowReservedNamespaces: [] }, writer);
      } catch (err) {
        return (err as ToolError).message;
      }
      return '';
    };
    expect(refusal(ns('Admin', 'system.users'))).toBe(
      'database/collection: the admin database is reserved (admin, local, config are not served; set allowReservedNamespaces to widen this)',
    );
    expect(refusal(ns('shop', 'system.users'))).toBe(
      'database/collection: system collections (system.*) are not served (set allowReservedNamespaces to widen this)',
    );
    expect(refusal(agg([{ [`$_${'x'.repeat(100_000)}`]: {} }])).length).toBeLessThan(300);
  });
});

describe('namespace policy: an operator widens it only explicitly', () => {
  it('serves a reserved database listed by name, but not its system collections', () => {
    expect(decide(ns('admin', 'orders'), ['admin'])).toBeNull();
    expect(decide(ns('admin'), ['admin'])).toBeNull();
    expect(decide(ns('admin', 'system.users'), ['admin'])).toBe(FORBIDDEN);
    expect(decide(ns('local'), ['admin'])).toBe(FORBIDDEN);
  });

  it('serves exactly one listed namespace and nothing beside it', () => {
    const allow = ['admin.system.users'];
    expect(decide(ns('admin', 'system.users'), allow)).toBeNull();
    expect(decide(ns('Admin', 'System.Users'), allow)).toBeNull();
    expect(decide(agg([{ $lookup: { from: { db: 'admin', coll: 'system.users' }, pipeline: [], as: 'u' } }]), allow)).toBeNull();
    expect(decide(ns('admin'), allow)).toBe(FORBIDDEN);
    expect(decide(ns('admin', 'system.roles'), allow)).toBe(FORBIDDEN);
    expect(decide(ns('shop', 'system.users'), allow)).toBe(FORBIDDEN);
  });

  it('serves a listed system collection of an ordinary database', () => {
    expect(decide(ns('shop', 'system.profile'), ['shop.system.profile'])).toBeNull();
    expect(decide(ns('shop', 'system.views'), ['shop.system.profile'])).toBe(FORBIDDEN);
  });

  it('never widens the cluster-wide stages', () => {
    expect(decide(agg([{ $currentOp: {} }]), ['admin', 'local', 'config'])).toBe(FORBIDDEN);
  });

  it('hides from listings exactly what a tool could not name', () => {
    const none = allowanceFrom([]);
    expect(['admin', 'Admin', 'local', 'config', 'shop'].filter((d) => databaseVisible(d, none))).toEqual(['shop']);
    expect(['orders', 'system.views', 'System.js', 'system.profile'].filter((c) => collectionVisible('shop', c, none))).toEqual(['orders']);
    const some = allowanceFrom(['config', 'shop.system.profile']);
    expect(['admin', 'config', 'shop'].filter((d) => databaseVisible(d, some))).toEqual(['config', 'shop']);
    expect(['orders', 'system.views', 'system.profile'].filter((c) => collectionVisible('shop', c, some))).toEqual(['orders', 'system.profile']);
  });
});

describe('namespace policy: configuration', () => {
  const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseConfig(argv, env, () => '');

  it('defaults to nothing widened', () => {
    const r = parse([]);
    expect(r.kind === 'config' && r.config.allowReservedNamespaces).toEqual([]);
  });

  it('reads entries from the flag and from MDB_MCP_ALLOW_RESERVED_NAMESPACES', () => {
    const flag = parse(['--allowReservedNamespaces', 'admin, local.oplog.rs,shop.system.profile']);
    expect(flag.kind === 'config' && flag.config.allowReservedNamespaces).toEqual(['admin', 'local.oplog.rs', 'shop.system.profile']);
    const env = parse([], { MDB_MCP_ALLOW_RESERVED_NAMESPACES: 'config' });
    expect(env.kind === 'config' && env.config.allowReservedNamespaces).toEqual(['config']);
  });

  it.each([
    ['an ordinary database (a typo widens nothing)', 'admn'],
    ['an ordinary namespace', 'shop.orders'],
    ['a wildcard', 'admin.*'],
    ['a bare wildcard', '*'],
    ['an invalid database name', 'ad min'],
    ['an empty collection part', 'admin.'],
  ])('rejects %s as a configuration error naming the field, not the value', (_what, value) => {
    const r = parse(['--allowReservedNamespaces', `config,${value}`]);
    expect(r.kind).toBe('error');
    const message = r.kind === 'error' ? r.message : '';
    expect(message).toMatch(/^invalid configuration: allowReservedNamespaces: entry 2 .*\(from --allowReservedNamespaces\)$/);
    expect(message).not.toContain(value);
  });

  it('stops the process with exit code 2 on a bad entry, before any connection', () => {
    const main = resolve(import.meta.dirname, '../../src/main.ts');
    const r = spawnSync(process.execPath, [main, '--allowReservedNamespaces', 'shop.orders'], {
      env: { PATH: process.env.PATH ?? '', MDB_MCP_CONNECTION_STRING: 'mongodb://127.0.0.1:9/' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/allowReservedNamespaces: entry 1 names nothing reserved/);
  });
});

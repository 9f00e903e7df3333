import { describe, expect, it } from 'vitest';
import { connectInMemory, errorCodeOf, textOf } from './helpers/in-memory.ts';
import { READ_SCOPE } from '../../src/identity/identity.ts';
import { WRITE_TOOLS } from '../../../contract/contract.ts';

const READ_TOOLS = [
  'list-databases',
  'list-collections',
  'collection-indexes',
  'collection-schema',
  'collection-storage-size',
  'db-stats',
  'explain',
  'find',
  'count',
  'aggregate',
];
const ns = { database: 'shop', collection: 'orders' };
const reader = { subject: 'u1', username: 'analyst', clientId: 'agent', scopes: [READ_SCOPE] };

describe('tool listing', () => {
  it('lists all 19 tools in read-write mode and never a connect or export tool', async () => {
    const h = await connectInMemory();
    const names = (await h.client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual([...READ_TOOLS, ...WRITE_TOOLS].sort());
    await h.close();
  });

  it('lists only metadata and read tools in read-only mode', async () => {
    const h = await connectInMemory({ readOnly: true });
    const names = (await h.client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual([...READ_TOOLS].sort());
    await h.close();
  });

  it('derives MCP annotations from the operation type', async () => {
    const h = await connectInMemory();
    const tools = Object.fromEntries((await h.client.listTools()).tools.map((t) => [t.name, t.annotations]));
    expect(tools.find).toMatchObject({ readOnlyHint: true, destructiveHint: false, idempotentHint: true });
    expect(tools['insert-many']).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    expect(tools['drop-database']).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(tools['update-many']).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    await h.close();
  });

  it('hides and refuses tools disabled by name or by operation type', async () => {
    const h = await connectInMemory({ disabledTools: ['find', 'delete'] });
    const names = (await h.client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain('find');
    expect(names).not.toContain('drop-database');
    expect(errorCodeOf(await h.client.callTool({ name: 'find', arguments: ns }))).toBe('TOOL_DISABLED');
    expect(errorCodeOf(await h.client.callTool({ name: 'delete-many', arguments: { ...ns, filter: {} } }))).toBe('TOOL_DISABLED');
    await h.close();
  });
});

describe('read-only mode through the real protocol', () => {
  it.each(WRITE_TOOLS)('refuses %s by name with READ_ONLY before touching the database', async (name) => {
    const h = await connectInMemory({ readOnly: true });
    const r = await h.client.callTool({ name, arguments: { ...ns, documents: [{}], filter: {}, update: {}, keys: { a: 1 }, newName: 'x', indexName: 'i' } });
    expect(r.isError).toBe(true);
    expect(errorCodeOf(r)).toBe('READ_ONLY');
    expect(h.audit.records).toHaveLength(1);
    expect(h.audit.records[0]).toMatchObject({ tool: name, outcome: 'refused', errorCode: 'READ_ONLY' });
    await h.close();
  });

  it('refuses $out and $merge at any depth in aggregate and explain', async () => {
    const h = await connectInMemory({ readOnly: true });
    const pipelines = [
      [{ $out: 'x' }],
      [{ $facet: { a: [{ $merge: { into: 'x' } }] } }],
      [{ $lookup: { from: 'c', as: 'c', pipeline: [{ $out: 'y' }] } }],
      [{ $unionWith: { coll: 'c', pipeline: [{ $merge: 'z' }] } }],
    ];
    for (const pipeline of pipelines) {
      expect(errorCodeOf(await h.client.callTool({ name: 'aggregate', arguments: { ...ns, pipeline } }))).toBe('FORBIDDEN_STAGE');
      const explain = { ...ns, method: [{ name: 'aggregate', arguments: { pipeline } }] };
      expect(errorCodeOf(await h.client.callTool({ name: 'explain', arguments: explain }))).toBe('FORBIDDEN_STAGE');
    }
    await h.close();
  });
});

describe('server-side JavaScript', () => {
  it('refuses $where, $function and $accumulator in filters and pipelines by default', async () => {
    const h = await connectInMemory();
    const calls = [
      { name: 'find', arguments: { ...ns, filter: { $where: 'sleep(10000)' } } },
      { name: 'count', arguments: { ...ns, query: { $or: [{ $where: 'true' }] } } },
      { name: 'aggregate', arguments: { ...ns, pipeline: [{ $match: { $expr: { $function: { body: 'x', args: [], lang: 'js' } } } }] } },
      { name: 'aggregate', arguments: { ...ns, pipeline: [{ $group: { _id: null, a: { $accumulator: {} } } }] } },
      { name: 'update-many', arguments: { ...ns, filter: { $where: '1' }, update: { $set: { a: 1 } } } },
    ];
    for (const c of calls) expect(errorCodeOf(await h.client.callTool(c))).toBe('SERVER_SIDE_JS_DISABLED');
    await h.close();
  });

  it('lets server-side JS through to the database only when disableServerSideJs=false', async () => {
    const h = await connectInMemory({ disableServerSideJs: false, maxTimeMS: 100 });
    const r = await h.client.callTool({ name: 'find', arguments: { ...ns, filter: { $where: 'true' } } });
    // No database is reachable here: the point is that the guard did not refuse it.
    expect(errorCodeOf(r)).not.toBe('SERVER_SIDE_JS_DISABLED');
    await h.close();
  });
});

describe('scopes and arguments', () => {
  it('refuses write tools to an identity without mcp:write', async () => {
    const h = await connectInMemory({}, { identity: reader });
    const r = await h.client.callTool({ name: 'drop-collection', arguments: ns });
    expect(errorCodeOf(r)).toBe('INSUFFICIENT_SCOPE');
    expect(h.audit.records[0]).toMatchObject({ subject: 'u1', username: 'analyst', agent: 'agent', outcome: 'refused' });
    await h.close();
  });

  it('treats $out in aggregate on a read-write server as a write that needs mcp:write', async () => {
    const h = await connectInMemory({}, { identity: reader });
    expect(errorCodeOf(await h.client.callTool({ name: 'aggregate', arguments: { ...ns, pipeline: [{ $out: 'x' }] } }))).toBe('INSUFFICIENT_SCOPE');
    await h.close();
  });

  it('names the offending field when arguments are invalid', async () => {
    const h = await connectInMemory();
    const r = await h.client.callTool({ name: 'find', arguments: { database: 'shop', collection: 7 } });
    expect(errorCodeOf(r)).toBe('INVALID_ARGUMENT');
    expect(textOf(r)).toMatch(/collection:/);
    const r2 = await h.client.callTool({ name: 'explain', arguments: { ...ns, method: [{ name: 'mapReduce', arguments: {} }] } });
    expect(textOf(r2)).toMatch(/method\.0\.name/);
    await h.close();
  });

  it('answers an unknown tool with UNKNOWN_TOOL and audits it', async () => {
    const h = await connectInMemory();
    const r = await h.client.callTool({ name: 'connect', arguments: { connectionString: 'mongodb://evil:pw@x/' } });
    expect(errorCodeOf(r)).toBe('UNKNOWN_TOOL');
    expect(h.audit.records).toHaveLength(1);
    expect(h.audit.records[0]).toMatchObject({ tool: 'connect', operationType: null, outcome: 'refused', errorCode: 'UNKNOWN_TOOL' });
    await h.close();
  });
});

describe('audit records', () => {
  it('writes exactly one line per call with a digest of the arguments and never their values', async () => {
    const h = await connectInMemory({ readOnly: true });
    const secretish = 'mongodb://admin:hunter2@db:27017/';
    await h.client.callTool({ name: 'find', arguments: { ...ns, filter: { note: secretish, $where: 'x' } } });
    await h.client.callTool({ name: 'drop-database', arguments: { database: 'shop', password: 'hunter2' } });
    expect(h.audit.records).toHaveLength(2);
    const line = JSON.stringify(h.audit.records);
    expect(line).not.toContain('hunter2');
    expect(line).not.toContain('$where');
    const [first] = h.audit.records;
    expect(first).toMatchObject({
      event: 'tool_call',
      tool: 'find',
      operationType: 'read',
      namespace: 'shop.orders',
      outcome: 'refused',
      errorCode: 'SERVER_SIDE_JS_DISABLED',
    });
    expect(first?.argsDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(typeof first?.durationMs).toBe('number');
    await h.close();
  });

  it('gives equal arguments the same digest whatever their key order', async () => {
    const h = await connectInMemory({ readOnly: true });
    await h.client.callTool({ name: 'drop-database', arguments: { database: 'a', x: { b: 1, c: 2 } } });
    await h.client.callTool({ name: 'drop-database', arguments: { x: { c: 2, b: 1 }, database: 'a' } });
    expect(h.audit.records[0]?.argsDigest).toBe(h.audit.records[1]?.argsDigest);
    await h.close();
  });
});

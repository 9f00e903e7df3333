/**
 * Resources and completion over a real database (issue #12): honest live names and shapes, the same
 * reserved-namespace filter as the listing tools, and one audit record per request.
 */
import { describe, expect, it } from 'vitest';
import { useRealDatabase } from './helpers/real-db.ts';

const real = useRealDatabase({ prefix: 'mcp-protocol-it-' });
const SCHEMA = 'mongodb://{database}/{collection}/schema';

describe('resources and completion against a real database', () => {
  it('reads a collection’s inferred schema and indexes as resources, without document values', async () => {
    const h = await real.session(real.db.readerUri, { readOnly: true });
    const ns = `mongodb://${real.db.dbName}/customers`;
    const schema = (await h.client.readResource({ uri: `${ns}/schema` })).contents[0] as { text: string; uri: string };
    expect(schema.uri).toBe(`${ns}/schema`);
    expect(schema.text).toContain('"email"');
    expect(schema.text).not.toMatch(/@example|@/); // field names and types only: no address from the sample
    const indexes = (await h.client.readResource({ uri: `${ns}/indexes` })).contents[0] as { text: string };
    expect(indexes.text).toContain('email_1');
    expect(h.audit.records.map((r) => [r.event, r.tool, r.namespace, r.outcome])).toEqual([
      ['resource_read', 'collection-schema', `${real.db.dbName}.customers`, 'ok'],
      ['resource_read', 'collection-indexes', `${real.db.dbName}.customers`, 'ok'],
    ]);
    await h.close();
  });

  it('completes live database names without admin, local or config', async () => {
    const h = await real.session(real.db.adminUri, { readOnly: true, allowWritePrivilegesInReadOnly: true });
    const all = await h.client.complete({ ref: { type: 'ref/resource', uri: SCHEMA }, argument: { name: 'database', value: '' } });
    expect(all.completion.values).toContain(real.db.dbName);
    expect(all.completion.values.filter((d) => ['admin', 'local', 'config'].includes(d.toLowerCase()))).toEqual([]);
    const prefix = await h.client.complete({ ref: { type: 'ref/resource', uri: SCHEMA }, argument: { name: 'database', value: 'adm' } });
    expect(prefix.completion.values).toEqual([]);
    await h.close();
  });

  it('completes live collection names of the chosen database, by prefix, never a system.* collection', async () => {
    const h = await real.session(real.db.readerUri, { readOnly: true });
    const r = await h.client.complete({
      ref: { type: 'ref/prompt', name: 'explore-collection' },
      argument: { name: 'collection', value: 'cu' },
      context: { arguments: { database: real.db.dbName } },
    });
    expect(r.completion.values).toEqual(['customers']);
    const all = await h.client.complete({
      ref: { type: 'ref/resource', uri: SCHEMA },
      argument: { name: 'collection', value: '' },
      context: { arguments: { database: real.db.dbName } },
    });
    expect(all.completion.values.length).toBeGreaterThan(1);
    expect(all.completion.values.filter((c) => c.startsWith('system.'))).toEqual([]);
    expect(h.audit.records.at(-1)).toMatchObject({ event: 'completion', namespace: real.db.dbName, outcome: 'ok', documents: all.completion.values.length });
    await h.close();
  });
});

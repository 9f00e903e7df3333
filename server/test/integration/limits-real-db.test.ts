/**
 * The per-call limits against a real database: maxBytesPerQuery cuts find/aggregate results (and refuses a
 * single document above it), and maxTimeMS is on the wire of every tool's commands and is enforced by the
 * database, surfacing as TIMEOUT.
 */
import { describe, expect, it } from 'vitest';
import type { CommandStartedEvent, Document } from 'mongodb';
import { errorCodeOf, textOf } from '../unit/helpers/in-memory.ts';
import { ALL_TOOLS } from '../../src/tools/registry.ts';
import { useRealDatabase } from './helpers/real-db.ts';
import { unfence } from '../../src/tools/format.ts';

const real = useRealDatabase({ prefix: 'mcp-server-limits-' });
const CAP = 2048;

/** The relaxed-EJSON array inside the untrusted-data fence, and its size in bytes. */
function bodyOf(text: string): { docs: unknown[]; bytes: number } {
  const body = unfence(text)?.data ?? '';
  return { docs: JSON.parse(body) as unknown[], bytes: Buffer.byteLength(body) };
}

describe('maxBytesPerQuery', () => {
  it.each([
    ['find', { filter: {}, limit: 1000 }],
    ['aggregate', { pipeline: [{ $match: {} }] }],
  ])('cuts a %s result at the byte cap, says TRUNCATED, and never returns more EJSON than the cap', async (name, args) => {
    const h = await real.session(real.db.readerUri, { readOnly: true, maxBytesPerQuery: CAP, maxDocumentsPerQuery: 1000 });
    const r = await h.client.callTool({ name, arguments: { database: real.db.dbName, collection: 'orders', ...args } });
    expect(r.isError, textOf(r)).toBeFalsy();
    const text = textOf(r);
    const { docs, bytes } = bodyOf(text);
    expect(text).toMatch(new RegExp(`^Returned ${docs.length} documents; the result was TRUNCATED at maxBytesPerQuery=${CAP}\\.`));
    expect(docs.length).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(CAP);
    expect(h.audit.records[0]).toMatchObject({ outcome: 'ok', documents: docs.length });
    await h.close();
  });

  it.each([
    ['find', { filter: {} }],
    ['aggregate', { pipeline: [{ $match: {} }] }],
  ])('refuses a %s whose first document alone exceeds the byte cap with RESULT_TOO_LARGE', async (name, args) => {
    const writer = await real.mongo(real.db.writerUri);
    const big = writer.db(real.db.dbName).collection('it_limits_big');
    if ((await big.countDocuments()) === 0) await big.insertOne({ pad: 'x'.repeat(CAP * 2) });
    const h = await real.session(real.db.readerUri, { readOnly: true, maxBytesPerQuery: CAP });
    const r = await h.client.callTool({ name, arguments: { database: real.db.dbName, collection: 'it_limits_big', ...args } });
    expect(r.isError).toBe(true);
    expect(errorCodeOf(r)).toBe('RESULT_TOO_LARGE');
    expect(textOf(r)).not.toContain('xxxx');
    expect(h.audit.records[0]).toMatchObject({ outcome: 'refused', errorCode: 'RESULT_TOO_LARGE' });
    await h.close();
  });
});

describe('maxTimeMS', () => {
  // Each must scan all 20 000 orders (`total` has no index): far longer than 1 ms on any engine.
  const slow: Array<[string, Record<string, unknown>]> = [
    ['count', { query: { total: { $lt: 0 } } }],
    ['aggregate', { pipeline: [{ $group: { _id: '$customerId', total: { $sum: '$total' } } }] }],
    ['find', { filter: { total: { $lt: 0 } } }],
  ];

  it.each(slow)('stops a slow %s in the database and answers TIMEOUT, while the default limit lets it finish', async (name, args) => {
    const call = { name, arguments: { database: real.db.dbName, collection: 'orders', ...args } };
    const tight = await real.session(real.db.readerUri, { readOnly: true, maxTimeMS: 1 });
    const r = await tight.client.callTool(call);
    expect(r.isError, textOf(r)).toBe(true);
    expect(errorCodeOf(r)).toBe('TIMEOUT');
    expect(tight.audit.records[0]).toMatchObject({ outcome: 'error', errorCode: 'TIMEOUT' });
    await tight.close();

    const roomy = await real.session(real.db.readerUri, { readOnly: true });
    const ok = await roomy.client.callTool(call);
    expect(ok.isError, textOf(ok)).toBeFalsy();
    await roomy.close();
  });

  it('connects with no client option the driver ignores, so no time limit is only apparent', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await real.mongo(real.db.readerUri);
      await new Promise((done) => setImmediate(done)); // process warnings are emitted on a later tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => /deprecated|no effect/i.test(w))).toEqual([]);
  });

  it('puts the configured maxTimeMS on every command each tool sends to the database', async () => {
    const maxTimeMS = 12_345;
    const client = await real.mongo(`${real.db.writerUri}&monitorCommands=true`, { maxTimeMS });
    const h = await real.session(real.db.writerUri, { maxTimeMS, indexCheck: false }, client);
    const checked = await real.session(real.db.writerUri, { maxTimeMS, indexCheck: true }, client);
    const db = real.db.dbName;
    const ns = { database: db, collection: 'it_limits_wire' };
    const calls: Array<[typeof h, string, Record<string, unknown>]> = [
      [h, 'create-collection', ns],
      [h, 'insert-many', { ...ns, documents: [{ a: 1 }, { a: 2 }] }],
      [h, 'create-index', { ...ns, keys: { a: 1 }, name: 'a_1' }],
      [h, 'list-databases', {}],
      [h, 'list-collections', { database: db }],
      [h, 'collection-indexes', ns],
      [h, 'collection-schema', { ...ns, sampleSize: 2 }],
      [h, 'collection-storage-size', ns],
      [h, 'db-stats', { database: db }],
      [h, 'explain', { ...ns, method: [{ name: 'find', arguments: { filter: { a: 1 } } }] }],
      [h, 'explain', { ...ns, method: [{ name: 'aggregate', arguments: { pipeline: [{ $match: { a: 1 } }] } }] }],
      [h, 'explain', { ...ns, method: [{ name: 'count', arguments: { query: { a: 1 } } }] }],
      [h, 'find', { ...ns, filter: { a: 1 } }],
      [h, 'count', { ...ns, query: { a: 1 } }],
      [h, 'aggregate', { ...ns, pipeline: [{ $match: { a: 1 } }] }],
      [checked, 'find', { ...ns, filter: { a: 1 } }], // indexCheck: the explain before the query
      [checked, 'aggregate', { ...ns, pipeline: [{ $match: { a: 1 } }] }],
      [h, 'update-many', { ...ns, filter: { a: 1 }, update: { $set: { b: 1 } } }],
      [h, 'delete-many', { ...ns, filter: { a: 2 } }],
      [h, 'drop-index', { ...ns, indexName: 'a_1' }],
      [h, 'rename-collection', { ...ns, newName: 'it_limits_wire2' }],
      [h, 'drop-collection', { ...ns, collection: 'it_limits_wire2' }],
      [h, 'insert-many', { database: 'it_limits_dropme', collection: 'x', documents: [{}] }],
      [h, 'drop-database', { database: 'it_limits_dropme' }],
    ];
    // Handshake, auth and cursor continuation are not operations: getMore/killCursors ride on the
    // cursor's own maxTimeMS (https://www.mongodb.com/docs/manual/reference/method/cursor.maxTimeMS/).
    const notOperations = new Set(['hello', 'isMaster', 'ismaster', 'saslStart', 'saslContinue', 'ping', 'endSessions', 'getMore', 'killCursors']);
    let sent: CommandStartedEvent[] = [];
    client.on('commandStarted', (e) => {
      if (!notOperations.has(e.commandName)) sent.push(e);
    });
    const seen: string[] = [];
    for (const [session, name, args] of calls) {
      sent = [];
      const r = await session.client.callTool({ name, arguments: args });
      // With indexCheck, FerretDB plans every filter as a scan and refuses: the explain was still sent.
      if (session === h) expect(r.isError, `${name}: ${textOf(r)}`).toBeFalsy();
      expect(sent.length, `${name} sent no command`).toBeGreaterThan(0);
      for (const e of sent) {
        const limit = e.command.maxTimeMS ?? (e.command.explain as Document | undefined)?.maxTimeMS;
        expect(limit, `${name}: ${e.commandName} without maxTimeMS`).toBe(maxTimeMS);
      }
      seen.push(name);
    }
    expect(new Set(seen)).toEqual(new Set(ALL_TOOLS.map((t) => t.name)));
    await h.close();
    await checked.close();
  });
});

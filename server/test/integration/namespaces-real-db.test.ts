import { describe, expect, it } from 'vitest';
import { errorCodeOf, textOf } from '../unit/helpers/in-memory.ts';
import { useRealDatabase } from './helpers/real-db.ts';
import { unfence } from '../../src/tools/format.ts';

const real = useRealDatabase({ prefix: 'mcp-server-ns-' });
const { session } = real;
const usersNs = { database: 'admin', collection: 'system.users', filter: {}, limit: 5 };
const names = (text: string) => JSON.parse(unfence(text)?.data ?? '') as unknown[];

describe('reserved namespaces against a real database', () => {
  it('refuses the reader the users collection by default, and only the server stood in the way', async () => {
    const closed = await session(real.db.readerUri, { readOnly: true });
    expect(errorCodeOf(await closed.client.callTool({ name: 'find', arguments: usersNs }))).toBe('NAMESPACE_FORBIDDEN');
    await closed.close();
    // Widened explicitly, the same call reaches the database: FerretDB (no roles) answers it, mongod's RBAC
    // refuses the reader. So on FerretDB the guard is the only control — the reason it exists.
    const open = await session(real.db.readerUri, { readOnly: true, allowReservedNamespaces: ['admin.system.users'] });
    const r = await open.client.callTool({ name: 'find', arguments: usersNs });
    // Never print the reply: on FerretDB it holds the users' SCRAM keys.
    const code = errorCodeOf(r) ?? 'ok';
    expect(code, 'widened call').toBe(real.db.kind === 'mongod' ? 'DB_UNAUTHORIZED' : 'ok');
    await open.close();
  });

  it('lists no reserved database by default, and the one an operator allowed', async () => {
    const closed = await session(real.db.adminUri, { readOnly: false });
    const listed = names(textOf(await closed.client.callTool({ name: 'list-databases', arguments: {} }))) as Array<{ name: string }>;
    expect(listed.map((d) => d.name)).toContain(real.db.dbName);
    expect(listed.map((d) => d.name).filter((n) => /^(admin|local|config)$/i.test(n))).toEqual([]);
    await closed.close();
    const open = await session(real.db.adminUri, { allowReservedNamespaces: ['admin'] });
    const widened = names(textOf(await open.client.callTool({ name: 'list-databases', arguments: {} }))) as Array<{ name: string }>;
    expect(widened.map((d) => d.name)).toContain('admin');
    const adminColls = names(textOf(await open.client.callTool({ name: 'list-collections', arguments: { database: 'admin' } }))) as string[];
    expect(adminColls.filter((c) => /^system\./i.test(c))).toEqual([]);
    await open.close();
  });
});

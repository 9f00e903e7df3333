/**
 * Resources, prompts and completion (issue #12), attacked through the edge with a real reader token: they
 * must not open a way around the guards the tools have. A resources/read of admin.system.users is refused
 * by the MCP server itself (NAMESPACE_FORBIDDEN) and audited, the redacted configuration carries no secret,
 * and completion never offers a reserved namespace.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ProtocolError } from '@modelcontextprotocol/client';
import { serviceAgentToken } from '../harness/tokens.ts';
import { connectMcp, type McpSession } from '../harness/mcp.ts';
import { auditWhere } from '../harness/audit.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');
const CREDENTIALS = /storedKey|serverKey|salt|SCRAM-SHA|credentials/i;

async function refused(p: Promise<unknown>): Promise<{ rpc: number; code: unknown; message: string }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProtocolError);
  const e = err as ProtocolError;
  return { rpc: e.code, code: (e.data as { code?: unknown } | undefined)?.code, message: e.message };
}

describe('resources, prompts and completion through the edge, as a reader', () => {
  let mcp: McpSession;
  beforeAll(async () => {
    mcp = await connectMcp(m, m.resources.readOnly, (await serviceAgentToken(m)).access_token);
  });
  afterAll(() => mcp?.close());

  it('refuses a resources/read of admin.system.users with NAMESPACE_FORBIDDEN, no credential in the reply, audited as refused', async (ctx) => {
    const uri = 'mongodb://admin/system.users/schema';
    const r = await refused(mcp.client.readResource({ uri }));
    expect(r).toMatchObject({ rpc: -32602, code: 'NAMESPACE_FORBIDDEN' });
    expect(r.message).not.toMatch(CREDENTIALS);
    const line = (await auditWhere(m.auditLog.readOnly, (l) => l.event === 'resource_read' && l.resource === uri)).at(-1)?.line;
    expect(line).toMatchObject({ outcome: 'refused', errorCode: 'NAMESPACE_FORBIDDEN', tool: 'collection-schema', namespace: 'admin.system.users' });
    recordProof(ctx, {
      attack: 'reader: resources/read mongodb://admin/system.users/schema via /mcp',
      expected: 'JSON-RPC -32602 NAMESPACE_FORBIDDEN, audited refused',
      observed: `${r.rpc} ${String(r.code)}, audit ${String(line?.outcome)}/${String(line?.errorCode)}`,
    });
  });

  it('refuses the indexes of the oplog and of a system collection of the application database', async () => {
    for (const uri of ['mongodb://local/oplog.rs/indexes', `mongodb://${m.database.name}/system.views/indexes`, 'mongodb://Config/system.sessions/schema']) {
      expect((await refused(mcp.client.readResource({ uri }))).code, uri).toBe('NAMESPACE_FORBIDDEN');
    }
  });

  it('serves the effective configuration with the connection string and proxy secret redacted', async (ctx) => {
    const r = await mcp.client.readResource({ uri: 'config://effective' });
    const text = (r.contents[0] as { text: string }).text;
    const config = JSON.parse(text) as Record<string, unknown>;
    expect(config).toMatchObject({ readOnly: true, connectionString: '[redacted]', proxySecret: '[redacted]' });
    expect(text).not.toMatch(/mongodb:\/\/[^"]*@/);
    recordProof(ctx, {
      attack: 'reader: resources/read config://effective',
      expected: 'secrets redacted',
      observed: `connectionString=${String(config.connectionString)}, proxySecret=${String(config.proxySecret)}`,
    });
  });

  it('completes database names without admin, local or config, and no collection inside admin', async (ctx) => {
    const ref = { type: 'ref/resource' as const, uri: 'mongodb://{database}/{collection}/schema' };
    const dbs = (await mcp.client.complete({ ref, argument: { name: 'database', value: '' } })).completion.values;
    expect(dbs).toContain(m.database.name);
    expect(dbs.filter((d) => /^(admin|local|config)$/i.test(d))).toEqual([]);
    const inAdmin = (await mcp.client.complete({ ref, argument: { name: 'collection', value: '' }, context: { arguments: { database: 'admin' } } })).completion
      .values;
    expect(inAdmin).toEqual([]);
    recordProof(ctx, {
      attack: 'reader: completion/complete database, and collection inside admin',
      expected: 'no reserved database; nothing inside admin',
      observed: `databases [${dbs.join(', ')}]; admin collections [${inAdmin.join(', ')}]`,
    });
  });

  it('refuses a prompt that names admin.system.users', async () => {
    const r = await refused(mcp.client.getPrompt({ name: 'explore-collection', arguments: { database: 'admin', collection: 'system.users' } }));
    expect(r.code).toBe('NAMESPACE_FORBIDDEN');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { connectHttpClient, identityHeaders, startHttp } from './helpers/http.ts';
import { errorCodeOf } from './helpers/in-memory.ts';

const VERSIONS = ['2025-06-18', '2025-11-25', '2026-07-28'];
const STDIO_ENTRY = resolve(import.meta.dirname, 'helpers/stdio-entry.ts');

describe('protocol revisions over Streamable HTTP', () => {
  let srv: Awaited<ReturnType<typeof startHttp>>;
  beforeAll(async () => {
    srv = await startHttp();
  });
  afterAll(async () => srv.close());

  it.each(VERSIONS)('negotiates %s: initialize, tools/list, tools/call with the proxy-asserted identity', async (version) => {
    const client = await connectHttpClient(srv.url, version, identityHeaders('subject-' + version, 'mcp:read'));
    expect(client.getNegotiatedProtocolVersion()).toBe(version);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('find');
    // A write by a reader: refused by scope, which proves the identity reached the tool handler.
    const r = await client.callTool({ name: 'drop-database', arguments: { database: 'shop' } });
    expect(errorCodeOf(r)).toBe('INSUFFICIENT_SCOPE');
    const record = srv.audit.records.find((a) => a.subject === 'subject-' + version);
    expect(record).toMatchObject({ tool: 'drop-database', username: 'analyst', agent: 'agent-1', requestId: 'req-123', outcome: 'refused' });
    await client.close();
  });
});

describe('protocol revisions over stdio', () => {
  it.each(VERSIONS)('negotiates %s: initialize, tools/list, tools/call as the local user', async (version) => {
    const modern = version >= '2026';
    const client = new Client(
      { name: 'stdio-test', version: '1.0.0' },
      modern ? { versionNegotiation: { mode: { pin: version } } } : { supportedProtocolVersions: [version] },
    );
    const transport = new StdioClientTransport({ command: process.execPath, args: [STDIO_ENTRY], stderr: 'pipe' });
    await client.connect(transport);
    expect(client.getNegotiatedProtocolVersion()).toBe(version);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['find', 'aggregate', 'list-databases']));
    expect(names).not.toContain('insert-many'); // the entry runs read-only
    const r = await client.callTool({ name: 'insert-many', arguments: { database: 'shop', collection: 'x', documents: [{}] } });
    expect(errorCodeOf(r)).toBe('READ_ONLY');
    await client.close();
  });
});

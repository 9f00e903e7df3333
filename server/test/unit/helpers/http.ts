import { request as httpRequest } from 'node:http';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { defaultConfig, type Config } from '../../../src/config/schema.ts';
import { memoryAuditSink } from '../../../src/audit/audit-log.ts';
import { anonymousIdentity } from '../../../src/identity/identity.ts';
import { createServer } from '../../../src/server.ts';
import { startHttpServer } from '../../../src/transport/http/http-server.ts';
import type { ToolDefinition } from '../../../src/tools/tool.ts';
import { unconnectedMongo } from './in-memory.ts';

export const PROXY_SECRET = 'unit-test-proxy-secret-0123456789';

/** The real HTTP transport on 127.0.0.1, port 0, with the proxy secret configured (and the real tools unless others are given). */
export async function startHttp(overrides: Partial<Config> = {}, tools?: readonly ToolDefinition[]) {
  const config = defaultConfig({ transport: 'http', httpPort: 0, proxySecret: PROXY_SECRET, ...overrides });
  const audit = memoryAuditSink();
  const mongo = unconnectedMongo();
  const handle = await startHttpServer(
    config,
    () => createServer(config, { client: mongo, audit, defaultIdentity: anonymousIdentity(), ...(tools ? { tools } : {}) }),
    audit,
  );
  return {
    ...handle,
    audit,
    async close() {
      await handle.close();
      await mongo.close();
    },
  };
}

export function identityHeaders(subject = 'user-1', scopes = 'mcp:read'): Record<string, string> {
  return {
    'x-mcp-proxy-auth': PROXY_SECRET,
    'x-auth-subject': subject,
    'x-auth-username': 'analyst',
    'x-auth-client-id': 'agent-1',
    'x-auth-scopes': scopes,
    'x-request-id': 'req-123',
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request with full control of Host and body (fetch forbids setting Host). */
export function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'POST', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export const INIT = (version = '2025-06-18') =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });

export const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A real SDK client over Streamable HTTP, pinned to one protocol revision. */
export async function connectHttpClient(url: string, version: string, headers: Record<string, string>) {
  const modern = version >= '2026';
  const client = new Client(
    { name: 'http-test', version: '1.0.0' },
    modern ? { versionNegotiation: { mode: { pin: version } } } : { supportedProtocolVersions: [version] },
  );
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  await client.connect(transport);
  return client;
}

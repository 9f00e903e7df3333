/**
 * Our MCP server as a real process on loopback over a test database (not the stack's launch, scripts/stack/mcp.ts:
 * no edge, no policy), for the suites that need the process itself — the conformance CLI drives it, the shutdown
 * suite signals it. Read-only over streamable HTTP; the connection string goes in a 0600 file, never argv.
 * Resolves once /healthz answers; a server that does not come up is stopped and the error has its log tail.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startService, waitFor, type Service } from '../../scripts/stack/process.ts';

const MAIN = resolve(import.meta.dirname, '../../server/src/main.ts');

export interface McpProcessOptions {
  /** Working directory of the test: the secret file and the log go here, named after `name`. */
  dir: string;
  name: string;
  uri: string;
  port: number;
  /** Added after the transport, address and --readOnly. */
  args?: string[];
  env?: Record<string, string>;
}

export async function startMcpProcess(o: McpProcessOptions): Promise<Service> {
  const secrets = join(o.dir, `${o.name}-secrets`);
  mkdirSync(secrets, { mode: 0o700 });
  const uriFile = join(secrets, 'connection_string');
  writeFileSync(uriFile, o.uri, { mode: 0o600 });
  const service = startService({
    name: o.name,
    command: process.execPath,
    logFile: join(o.dir, `${o.name}.log`),
    args: [MAIN, '--transport', 'http', '--httpHost', '127.0.0.1', '--httpPort', String(o.port), '--readOnly', ...(o.args ?? [])],
    env: { MDB_MCP_CONNECTION_STRING_FILE: uriFile, ...o.env },
  });
  const health = `http://127.0.0.1:${o.port}/healthz`;
  try {
    await waitFor(`${o.name} /healthz`, async () => (await fetch(health).catch(() => undefined))?.ok, { service, timeoutMs: 30_000 });
  } catch (e) {
    await service.stop();
    throw e;
  }
  return service;
}

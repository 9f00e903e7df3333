/**
 * The official `mongodb-mcp-server` (pinned devDependency) as the comparison point, configured the way
 * compose.official.yaml runs it: read-only, `connect` and `export` disabled, telemetry off, logs to stderr,
 * the reader's connection string in its environment (it has no `_FILE` variant) — never in argv.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../scripts/stack/manifest.ts';
import { run, startService, waitFor, type Service } from '../scripts/stack/process.ts';

/** The official server's entry point: its package's `bin` (the package exports no package.json to resolve). */
export function officialEntry(): string {
  const dir = resolve(ROOT, 'node_modules/mongodb-mcp-server');
  const pkg = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
  return resolve(dir, pkg.bin['mongodb-mcp-server']!);
}

/** Non-secret settings shared by both transports. */
export const OFFICIAL_ENV: Record<string, string> = {
  MDB_MCP_READ_ONLY: 'true',
  // `connect` would let a caller point the server at another database; `export` writes files.
  MDB_MCP_DISABLED_TOOLS: 'connect,export',
  MDB_MCP_TELEMETRY: 'disabled',
  DO_NOT_TRACK: '1',
  MDB_MCP_LOGGERS: 'stderr',
};

export interface OfficialHttp {
  url: string;
  service: Service;
}

/** Starts the official server on a loopback port inside `netns`; ready when its port answers HTTP there. */
export async function startOfficialHttp(o: { port: number; netns: string | null; uriFile: string; logFile: string }): Promise<OfficialHttp> {
  const url = `http://127.0.0.1:${o.port}/mcp`;
  // It has no health endpoint: any HTTP answer (even 4xx) on its port means it is serving.
  const answers = () =>
    run('curl', ['-s', '-o', '/dev/null', '--max-time', '2', url], { netns: o.netns }).then(
      () => true,
      () => false,
    );
  // Something already there would answer our readiness probe and be measured in our server's place.
  if (await answers()) throw new Error(`port ${o.port} is already in use in ${o.netns ?? 'the host namespace'}: pass --officialPort`);
  const service = startService({
    name: 'official-mcp',
    command: process.execPath,
    args: [officialEntry()],
    netns: o.netns,
    logFile: o.logFile,
    env: {
      ...OFFICIAL_ENV,
      MDB_MCP_TRANSPORT: 'http',
      MDB_MCP_HTTP_HOST: '127.0.0.1',
      MDB_MCP_HTTP_PORT: String(o.port),
      MDB_MCP_CONNECTION_STRING: readFileSync(o.uriFile, 'utf8').trim(),
    },
  });
  try {
    await waitFor('official mongodb-mcp-server', answers, { service, timeoutMs: 60_000 });
  } catch (e) {
    await service.stop();
    throw e;
  }
  return { url, service };
}

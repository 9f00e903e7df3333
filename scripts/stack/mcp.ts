/**
 * Launches one instance of our MCP server (server/src/main.ts) behind the edge: bound to loopback in the
 * edge's namespace, streamable HTTP, with the database credentials and the proxy secret read from 0600
 * files (never argv or a logged env dump), and its own audit log.
 */
import { resolve } from 'node:path';
import { ROOT } from './manifest.ts';
import { httpOk, startService, waitFor, type Service } from './process.ts';
import { ROUTES } from '../../contract/contract.ts';

export interface McpOptions {
  name: 'mcp-ro' | 'mcp-rw';
  readOnly: boolean;
  port: number;
  /** 0600 file holding the tier's connection string (reader or writer user). */
  connectionStringFile: string;
  proxySecretFile: string;
  /** The public host:port clients use; anything else in `Host` is refused (DNS rebinding). */
  allowedHosts: string[];
  auditLog: string;
  /** The loopback-only metrics listener (GET /metrics). */
  metricsPort: number;
  netns: string | null;
  logFile: string;
  timeoutMs?: number;
}

export interface McpServer {
  service: Service;
  url: string;
}

/**
 * Load limits an operator may set for the whole stack from the runner's environment (e.g. a benchmark that
 * drives 64 concurrent calls as one service agent). Only these: every other setting is the runner's.
 */
const LOAD_LIMITS = [
  'MDB_MCP_MAX_SESSIONS',
  'MDB_MCP_MAX_SESSIONS_PER_CALLER',
  'MDB_MCP_MAX_CONCURRENT_REQUESTS',
  'MDB_MCP_MAX_CONCURRENT_REQUESTS_PER_CALLER',
];
const loadLimits = (): Record<string, string> => Object.fromEntries(LOAD_LIMITS.flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])));

/** Trace export is off unless the runner's environment names a collector (OTLP/HTTP). */
const tracing = (): Record<string, string> =>
  process.env.STACK_OTLP_TRACES_ENDPOINT ? { MDB_MCP_OTLP_TRACES_ENDPOINT: process.env.STACK_OTLP_TRACES_ENDPOINT } : {};

export async function startMcp(o: McpOptions): Promise<McpServer> {
  const service = startService({
    name: o.name,
    command: process.execPath,
    args: [resolve(ROOT, 'server/src/main.ts')],
    cwd: ROOT,
    netns: o.netns,
    logFile: o.logFile,
    env: {
      MDB_MCP_TRANSPORT: 'http',
      MDB_MCP_HTTP_HOST: '127.0.0.1',
      MDB_MCP_HTTP_PORT: String(o.port),
      MDB_MCP_CONNECTION_STRING_FILE: o.connectionStringFile,
      MDB_MCP_READ_ONLY: String(o.readOnly),
      MDB_MCP_PROXY_SECRET_FILE: o.proxySecretFile,
      MDB_MCP_HTTP_ALLOWED_HOSTS: o.allowedHosts.join(','),
      MDB_MCP_AUDIT_LOG: o.auditLog,
      // One reviewed policy file per tier (docs/policy.md); SIGHUP reloads it.
      MDB_MCP_POLICY_FILE: resolve(ROOT, 'policies', `${o.name}.cedar`),
      MDB_MCP_MONITORING_SERVER_PORT: String(o.metricsPort),
      ...tracing(),
      ...loadLimits(),
    },
  });
  const base = `http://127.0.0.1:${o.port}`;
  try {
    await waitFor(`${o.name} ${ROUTES.health}`, () => httpOk(`${base}${ROUTES.health}`, { netns: o.netns }), {
      service,
      timeoutMs: o.timeoutMs ?? 30_000,
    });
  } catch (e) {
    await service.stop();
    throw e;
  }
  return { service, url: `${base}${ROUTES.mcpUpstream}` };
}

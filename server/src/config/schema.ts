import { z } from 'zod';
import { bool, integer, list, oneOf, secret, text } from './fields.ts';
import { allowanceEntries } from '../guard/namespace-policy.ts';

const MiB = 1024 * 1024;

/**
 * The one configuration schema of the MCP server. Names mirror `mongodb-mcp-server` 3.x (`MDB_MCP_*`);
 * the HTTP/identity/audit fields are ours (docs/architecture.md, "MCP server configuration").
 * Every field has a default and a description: `--help` and server/README.md are generated from it.
 */
export const configFields = {
  connectionString: secret('MongoDB connection string. Fixed at start-up: there is no `connect` tool.'),
  readOnly: bool(false, 'Serve only metadata and read tools; refuse start-up with write-capable DB credentials.'),
  transport: oneOf(['stdio', 'http'] as const, 'stdio', 'MCP transport: stdio or Streamable HTTP.'),
  httpHost: text('127.0.0.1', 'HTTP bind address. Non-loopback needs dangerouslyAllowNonLoopback.'),
  httpPort: integer(3000, 'HTTP port (0 picks a free port).', 0, 65535),
  disabledTools: list('Comma list of tool names or operation types (metadata, read, create, update, delete) to hide and refuse.'),
  indexCheck: bool(false, 'Refuse find/count/aggregate/update/delete that would scan the whole collection.'),
  maxDocumentsPerQuery: integer(100, 'Maximum documents returned by one tool call.', 1, 100_000),
  maxBytesPerQuery: integer(16 * MiB, 'Maximum bytes (relaxed EJSON) returned by one tool call.', 1024, 256 * MiB),
  maxTimeMS: integer(15_000, 'Server-side time limit (maxTimeMS) on every database operation.', 1, 3_600_000),
  bulkApprovalThreshold: integer(
    100,
    "delete-many/update-many matching more documents than this (counted first, at most this many + 1) need the user's approval through MCP elicitation; an empty filter always does, and so do drop-database/drop-collection.",
    0,
    1_000_000,
  ),
  approvalTimeoutMs: integer(
    120_000,
    "How long a call waits for the user's approval (MCP elicitation) before it is refused with APPROVAL_DECLINED.",
    1000,
    3_600_000,
  ),
  disableServerSideJs: bool(true, 'Refuse $where, $function and $accumulator anywhere in filters and pipelines.'),
  allowReservedNamespaces: list(
    'Comma list of reserved databases (admin, local, config) or exact namespaces (db.system.x) that tools may name. Default: none - no tool reads, lists or names them.',
    allowanceEntries,
  ),
  policyFile: text(
    '',
    'Cedar policy file (policies/mcp-ro.cedar, policies/mcp-rw.cedar): who may use which tool on which database and collection (docs/policy.md). Loaded at start (a broken file: exit 2), reloaded on SIGHUP. Empty: no policy layer.',
  ),
  proxySecret: secret('Shared secret the edge sends in X-MCP-Proxy-Auth; identity headers are trusted only with it.'),
  insecureNoProxyAuth: bool(false, 'LAB ONLY: allow transport=http without proxySecret (identity headers are then ignored).'),
  httpAllowedHosts: list('Extra allowed Host header values (host:port), e.g. the edge public host localhost:8443.'),
  httpAllowedOrigins: list('Allowed Origin header values (scheme://host:port). Requests without Origin are allowed.'),
  auditLog: text('stderr', 'Audit log destination: stderr or a file path (JSON lines, appended).'),
  httpBodyLimit: integer(MiB, 'Maximum HTTP request body in bytes (413 above).', 1024, 64 * MiB),
  maxSessions: integer(
    100,
    'Maximum concurrent 2025-era HTTP sessions, all callers together: the last resort behind maxSessionsPerCaller (503 above).',
    1,
    100_000,
  ),
  maxSessionsPerCaller: integer(10, 'Maximum concurrent 2025-era HTTP sessions of one caller (subject + client); 429 with Retry-After above.', 1, 100_000),
  maxConcurrentRequestsPerCaller: integer(
    4,
    'Maximum HTTP requests of one caller (subject + client) in flight at once; 429 with Retry-After above.',
    1,
    10_000,
  ),
  maxConcurrentRequests: integer(32, 'Maximum HTTP requests in flight at once, all callers together; 503 with Retry-After above.', 1, 100_000),
  maxResponseBytes: integer(
    4 * MiB,
    'Maximum bytes of the answer to one HTTP request (a JSON-RPC batch included); serialising stops there with RESPONSE_TOO_LARGE.',
    64 * 1024,
    256 * MiB,
  ),
  sessionIdleMs: integer(15 * 60_000, 'Idle time after which an HTTP session is closed.', 1000, 24 * 3_600_000),
  monitoringServerHost: text('127.0.0.1', 'Bind address of the metrics listener (GET /metrics, Prometheus). Loopback only, like httpHost.'),
  monitoringServerPort: integer(0, 'Port of the metrics listener, separate from httpPort so the edge never routes to it; 0 = no listener.', 0, 65535),
  otlpTracesEndpoint: text('', 'OTLP/HTTP endpoint for trace spans (e.g. http://127.0.0.1:4318/v1/traces); empty = tracing off.'),
  dangerouslyAllowNonLoopback: bool(false, 'LAB ONLY: allow binding httpHost to a non-loopback address.'),
  allowWritePrivilegesInReadOnly: bool(false, 'LAB ONLY: start in read-only mode even if the DB user can write.'),
};

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/** Cross-field rules: secure by default, refused before any socket opens. */
export const configSchema = z.strictObject(configFields).superRefine((c, ctx) => {
  if (c.otlpTracesEndpoint !== '' && !/^https?:\/\/[^\s]+$/.test(c.otlpTracesEndpoint)) {
    ctx.addIssue({ code: 'custom', path: ['otlpTracesEndpoint'], message: 'expected an http(s) URL' });
  }
  if (c.transport !== 'http') return;
  if (!isLoopbackHost(c.httpHost) && !c.dangerouslyAllowNonLoopback) {
    ctx.addIssue({ code: 'custom', path: ['httpHost'], message: 'non-loopback bind address refused (set dangerouslyAllowNonLoopback for labs)' });
  }
  if (c.monitoringServerPort !== 0 && !isLoopbackHost(c.monitoringServerHost) && !c.dangerouslyAllowNonLoopback) {
    ctx.addIssue({ code: 'custom', path: ['monitoringServerHost'], message: 'non-loopback bind address refused (set dangerouslyAllowNonLoopback for labs)' });
  }
  if (c.proxySecret === '' && !c.insecureNoProxyAuth) {
    ctx.addIssue({ code: 'custom', path: ['proxySecret'], message: 'required with transport=http (or set insecureNoProxyAuth for labs)' });
  }
  if (c.proxySecret !== '' && c.proxySecret.length < 16) {
    ctx.addIssue({ code: 'custom', path: ['proxySecret'], message: 'must be at least 16 characters' });
  }
});

export type Config = z.output<typeof configSchema>;
export type ConfigKey = keyof typeof configFields;

/** A fully-defaulted config (tests start from it). @internal */
export function defaultConfig(overrides: Partial<Config> = {}): Config {
  return { ...configSchema.parse({}), ...overrides };
}

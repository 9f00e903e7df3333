import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ERROR_CODES } from '../errors.ts';

/**
 * The MCP server's Prometheus metrics. Names and labels of the official mongodb-mcp-server
 * (@mongodb-js/mcp-metrics: `mcp_tool_execution_duration_seconds`, `mcp_session_created`, `mcp_session_closed`,
 * `mcp_active_sessions`) where it has one, so one dashboard reads both; ours are `mcp_refusals_total` and
 * `mcp_audit_write_failures_total`. Every label value comes from a closed set — a tool name from the registry,
 * an error code from ERROR_CODES, an audit event kind — never from the caller, so a client cannot grow the
 * series count and no token, argument or user name can reach a label.
 */
export interface ServerMetrics {
  registry: Registry;
  toolDuration: Histogram<'tool_name' | 'category' | 'status' | 'operation_type' | 'error_type'>;
  sessionCreated: Counter;
  sessionClosed: Counter<'reason'>;
  activeSessions: Gauge;
  /** Read by `mcp_active_sessions` at scrape time (the HTTP transport points it at its session store). */
  sessionCount: () => number;
  refusals: Counter<'code' | 'event'>;
  auditWriteFailures: Counter<'stage'>;
}

/** Official buckets (seconds). */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10];

export function createServerMetrics(o: { readOnly: boolean; processMetrics?: boolean }): ServerMetrics {
  const registry = new Registry();
  // Tells mcp-ro from mcp-rw when both are scraped into one Prometheus (they are the same program).
  registry.setDefaultLabels({ server_mode: o.readOnly ? 'read-only' : 'read-write' });
  if (o.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const m: ServerMetrics = {
    registry,
    toolDuration: new Histogram({
      name: 'mcp_tool_execution_duration_seconds',
      help: 'Duration of tool executions in seconds',
      labelNames: ['tool_name', 'category', 'status', 'operation_type', 'error_type'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    sessionCreated: new Counter({ name: 'mcp_session_created', help: "Number of created sessions in a pod's lifetime", registers }),
    sessionClosed: new Counter({ name: 'mcp_session_closed', help: "Number of closed sessions in a pod's lifetime", labelNames: ['reason'], registers }),
    activeSessions: new Gauge({
      name: 'mcp_active_sessions',
      help: "Sessions currently held in the pod's session store.",
      registers,
      collect() {
        this.set(m.sessionCount());
      },
    }),
    sessionCount: () => 0,
    refusals: new Counter({
      name: 'mcp_refusals_total',
      help: 'Requests refused, by closed error code and audit event (tool_call, http_refused, resource_read, completion, prompt_get)',
      labelNames: ['code', 'event'],
      registers,
    }),
    auditWriteFailures: new Counter({
      name: 'mcp_audit_write_failures_total',
      help: 'Audit records that could not be written (write) or calls refused because the log could not take one (ready)',
      labelNames: ['stage'],
      registers,
    }),
  };
  return m;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** A label value for an error code: the code itself when it is one of ours, else `OTHER` (bounded either way). */
export function codeLabel(code: string | null | undefined): string {
  if (code == null) return '';
  return KNOWN_CODES.has(code) ? code : 'OTHER';
}

import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse.ts';
import { memoryAuditSink, type AuditRecord, type AuditSink } from '../../src/audit/audit-log.ts';
import { ToolError } from '../../src/errors.ts';
import { createServerMetrics } from '../../src/metrics/registry.ts';
import { countingAuditSink } from '../../src/metrics/counting-sink.ts';
import { startMetricsListener } from '../../src/metrics/listener.ts';
import { samples } from '../../../dashboards/prom-text.ts';
import { toolCallRecord } from './helpers/audit-record.ts';

const record = (over: Partial<AuditRecord>): AuditRecord => toolCallRecord({ operationType: 'read', durationMs: 12, ...over });

const metricsText = async (m: ReturnType<typeof createServerMetrics>) => m.registry.metrics();

describe('server metrics', () => {
  it('observe each tools/call once, with the official histogram name and labels, from its audit record', async () => {
    const m = createServerMetrics({ readOnly: true, processMetrics: false });
    const sink = countingAuditSink(memoryAuditSink(), m);
    sink.write(record({}));
    sink.write(record({ tool: 'insert-many', operationType: 'create', outcome: 'refused', errorCode: 'READ_ONLY' }));
    const text = await metricsText(m);
    const count = samples(text).filter((s) => s.name === 'mcp_tool_execution_duration_seconds_count');
    expect(count).toContainEqual({
      name: 'mcp_tool_execution_duration_seconds_count',
      labels: { tool_name: 'find', category: 'mongodb', status: 'success', operation_type: 'read', error_type: '', server_mode: 'read-only' },
      value: 1,
    });
    expect(count).toContainEqual(
      expect.objectContaining({ labels: expect.objectContaining({ tool_name: 'insert-many', status: 'error', error_type: 'READ_ONLY' }), value: 1 }),
    );
    expect(text).toContain('mcp_refusals_total{code="READ_ONLY",event="tool_call",server_mode="read-only"} 1');
  });

  it('never turn caller text into a label: an unknown tool is "unknown", an unknown code is OTHER', async () => {
    const m = createServerMetrics({ readOnly: false, processMetrics: false });
    const sink = countingAuditSink(memoryAuditSink(), m);
    sink.write(record({ tool: 'Bearer eyJhbGciOi.secret', operationType: null, outcome: 'refused', errorCode: 'UNKNOWN_TOOL' }));
    sink.write(record({ event: 'http_refused', tool: undefined, operationType: undefined, outcome: 'refused', errorCode: 'made-up' as never }));
    const text = await metricsText(m);
    expect(text).not.toContain('eyJ');
    expect(text).toContain('tool_name="unknown"');
    expect(text).toContain('mcp_refusals_total{code="OTHER",event="http_refused",server_mode="read-write"} 1');
  });

  it('count audit write failures (a record lost, a call refused before it ran) and still throw them', async () => {
    const m = createServerMetrics({ readOnly: true, processMetrics: false });
    const failing: AuditSink = {
      write: () => {
        throw new ToolError('AUDIT_UNAVAILABLE', 'x');
      },
      ready: () => {
        throw new ToolError('AUDIT_UNAVAILABLE', 'x');
      },
    };
    const sink = countingAuditSink(failing, m);
    expect(() => sink.write(record({}))).toThrow(ToolError);
    expect(() => sink.ready?.()).toThrow(ToolError);
    const text = await metricsText(m);
    expect(text).toContain('mcp_audit_write_failures_total{stage="write",server_mode="read-only"} 1');
    expect(text).toContain('mcp_audit_write_failures_total{stage="ready",server_mode="read-only"} 1');
  });

  it('read the session gauge at scrape time', async () => {
    const m = createServerMetrics({ readOnly: true, processMetrics: false });
    let n = 3;
    m.sessionCount = () => n;
    expect(await metricsText(m)).toContain('mcp_active_sessions{server_mode="read-only"} 3');
    n = 0;
    expect(await metricsText(m)).toContain('mcp_active_sessions{server_mode="read-only"} 0');
  });

  it('are served only as GET /metrics on their own listener: anything else is 404', async () => {
    const m = createServerMetrics({ readOnly: true, processMetrics: false });
    const l = await startMetricsListener(m.registry, '127.0.0.1', 0);
    try {
      const ok = await fetch(l.url);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toContain('text/plain');
      expect(await ok.text()).toContain('# TYPE mcp_tool_execution_duration_seconds histogram');
      expect((await fetch(l.url, { method: 'POST' })).status).toBe(404);
      expect((await fetch(l.url.replace('/metrics', '/mcp'))).status).toBe(404);
    } finally {
      await l.close();
    }
  });
});

describe('metrics configuration', () => {
  it('has no listener by default and refuses a non-loopback one', () => {
    const d = parseConfig([], {});
    expect(d.kind === 'config' && d.config.monitoringServerPort).toBe(0);
    const r = parseConfig([], {
      MDB_MCP_TRANSPORT: 'http',
      MDB_MCP_PROXY_SECRET: 'x'.repeat(32),
      MDB_MCP_MONITORING_SERVER_PORT: '9401',
      MDB_MCP_MONITORING_SERVER_HOST: '0.0.0.0',
    });
    expect(r.kind).toBe('error');
    expect(r.kind === 'error' && r.message).toContain('monitoringServerHost');
  });

  it('accepts only an http(s) URL as the OTLP endpoint', () => {
    const r = parseConfig([], { MDB_MCP_OTLP_TRACES_ENDPOINT: 'file:///etc/passwd' });
    expect(r.kind === 'error' && r.message).toContain('otlpTracesEndpoint');
  });
});

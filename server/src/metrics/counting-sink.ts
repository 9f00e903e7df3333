import type { AuditRecord, AuditSink } from '../audit/audit-log.ts';
import { codeLabel, type ServerMetrics } from './registry.ts';

const EVENTS: ReadonlySet<string> = new Set(['tool_call', 'http_refused', 'resource_read', 'completion', 'prompt_get']);

/**
 * Counts what the audit log already records, so every outcome is counted exactly once without a second hook
 * in the dispatcher: every tools/call attempt and every refused HTTP request leaves exactly one record
 * (docs/architecture.md), and a new refusal code (a policy's, say) is counted the moment it is audited.
 * The record is read, never kept; the tool name becomes a label only when the registry knew the tool
 * (operationType set) — an unknown tool's name is caller text.
 */
export function countingAuditSink(inner: AuditSink, m: ServerMetrics): AuditSink {
  const observe = (r: AuditRecord): void => {
    if (r.outcome === 'refused') m.refusals.inc({ code: codeLabel(r.errorCode), event: EVENTS.has(r.event) ? r.event : 'other' });
    if (r.event !== 'tool_call') return;
    const known = r.operationType != null && r.tool != null;
    m.toolDuration.observe(
      {
        tool_name: known ? (r.tool as string) : 'unknown',
        category: 'mongodb',
        status: r.outcome === 'ok' ? 'success' : 'error',
        operation_type: known ? (r.operationType as string) : 'unknown',
        error_type: codeLabel(r.errorCode),
      },
      (r.durationMs ?? 0) / 1000,
    );
  };
  const sink: AuditSink = {
    write(r) {
      try {
        inner.write(r);
      } catch (e) {
        m.auditWriteFailures.inc({ stage: 'write' });
        throw e;
      } finally {
        observe(r);
      }
    },
  };
  const ready = inner.ready?.bind(inner);
  if (ready) {
    sink.ready = () => {
      try {
        ready();
      } catch (e) {
        m.auditWriteFailures.inc({ stage: 'ready' });
        throw e;
      }
    };
  }
  return sink;
}

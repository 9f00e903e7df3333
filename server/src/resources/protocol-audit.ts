import type { AuditRecord, AuditSink } from '../audit/audit-log.ts';
import type { ErrorCode } from '../errors.ts';
import type { Identity } from '../identity/identity.ts';

export type ProtocolEvent = 'resource_read' | 'completion' | 'prompt_get';

export interface ProtocolCall {
  identity: Identity;
  sessionId: string | undefined;
}

/**
 * The one record of a resources/read, completion/complete or prompts/get: the same who/what/outcome
 * fields as a tools/call record, never a value the caller typed beyond the names it asked about.
 */
export function protocolRecord(event: ProtocolEvent, resource: string, call: ProtocolCall, namespace: string | null): AuditRecord {
  const id = call.identity;
  return {
    time: new Date().toISOString(),
    event,
    requestId: id.requestId ?? null,
    tokenId: id.tokenId ?? null,
    sessionId: call.sessionId ?? null,
    subject: id.subject,
    username: id.username,
    agent: id.clientId,
    resource,
    tool: null,
    namespace,
    outcome: 'ok',
    errorCode: null,
  };
}

/** Sets the outcome of a record from a closed error code (refusals are the guards' codes; the rest are errors). */
export function settle(record: AuditRecord, code: ErrorCode | null, refusal: boolean, started: number): AuditRecord {
  if (code !== null) {
    record.outcome = refusal ? 'refused' : 'error';
    record.errorCode = code;
  }
  record.durationMs = Math.round(performance.now() - started);
  return record;
}

/**
 * A sink that writes a tools/call record as the protocol request it served: a resources/read runs the
 * metadata tool of the same name through the tool dispatcher (the same guards, limits and single record),
 * and is recorded as the read it was.
 */
export function asProtocolEvent(audit: AuditSink, event: ProtocolEvent, resource: string): AuditSink {
  return { write: (r) => audit.write({ ...r, event, resource }), ready: () => audit.ready?.() };
}

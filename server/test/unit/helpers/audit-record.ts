import type { AuditRecord } from '../../../src/audit/audit-log.ts';

/** A tool_call record that passed (a read of `find` by s/u/a, fixed time); `over` sets what a test is about. */
export const toolCallRecord = (over: Partial<AuditRecord> = {}): AuditRecord => ({
  time: '2026-01-01T00:00:00.000Z',
  event: 'tool_call',
  requestId: null,
  sessionId: null,
  subject: 's',
  username: 'u',
  agent: 'a',
  tool: 'find',
  outcome: 'ok',
  errorCode: null,
  ...over,
});

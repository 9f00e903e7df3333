import type { Identity } from '../identity/identity.ts';
import { auditUnansweredCall } from '../tools/dispatch.ts';
import type { AuditSink } from './audit-log.ts';
import { deliveredToServer } from './tool-call-ledger.ts';

/**
 * The SDK's HTTP entry answers some tools/call requests before any server instance (and so the ledger)
 * sees them: a 2026-07-28 request whose `_meta` envelope or headers are invalid, a body that is not a
 * JSON-RPC message. Called with every routed answer; for a tools/call that was not delivered it writes the
 * one record, with the JSON-RPC error code of the answer.
 */
export async function auditUndeliveredToolCall(request: Request, parsedBody: unknown, response: Response, identity: Identity, audit: AuditSink): Promise<void> {
  const calls = (Array.isArray(parsedBody) ? parsedBody : [parsedBody]).filter((m) => (m as { method?: unknown } | null)?.method === 'tools/call');
  if (calls.length === 0 || deliveredToServer(request)) return;
  const rpcCode = await rpcErrorCodeOf(response);
  const sessionId = request.headers.get('mcp-session-id') ?? undefined;
  for (const call of calls) {
    const attempt = { params: (call as { params?: unknown }).params, authInfo: undefined, sessionId, received: performance.now() };
    auditUnansweredCall(attempt, identity, rpcCode, audit);
  }
}

/** The error code of a JSON-RPC error answer (a small JSON body); null for anything else. */
async function rpcErrorCodeOf(response: Response): Promise<number | null> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) return null;
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } };
    return typeof body?.error?.code === 'number' ? body.error.code : null;
  } catch {
    return null;
  }
}

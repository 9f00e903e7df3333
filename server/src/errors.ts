/**
 * The closed set of error codes a tool call (or a refused HTTP request) can end with. Clients and the
 * audit log switch on these; the message is for humans and is always redacted.
 */
export const ERROR_CODES = [
  'READ_ONLY', // a create/update/delete tool on a read-only server
  'FORBIDDEN_STAGE', // $out/$merge where writes are not allowed
  'NAMESPACE_FORBIDDEN', // admin/local/config, system.* or a cluster-wide stage, unless allowReservedNamespaces
  'SERVER_SIDE_JS_DISABLED', // $where/$function/$accumulator/Code with disableServerSideJs
  'INSUFFICIENT_SCOPE', // the asserted identity lacks mcp:write
  'HEADER_MISMATCH', // an SEP-2243 Mcp-Name header that disagrees with the body, on any protocol revision (400, -32020)
  'POLICY_DENIED', // the policy file (server/src/policy/*) refuses this caller this tool on this namespace; the message names the rule
  'INVALID_ARGUMENT', // arguments failed the tool's schema
  'INVALID_PARAMS', // tools/call params refused by the protocol layer (no name, arguments not an object): JSON-RPC -32602
  'PROTOCOL_ERROR', // any other JSON-RPC error answering a tools/call before it reached a tool
  'INDEX_CHECK', // the query would scan the whole collection
  'RESULT_TOO_LARGE', // a single document exceeds maxBytesPerQuery
  'TIMEOUT', // maxTimeMS exceeded
  'DB_ERROR', // any other database error
  'DB_UNAUTHORIZED', // the database refused the operation (RBAC)
  'DB_UNAVAILABLE', // no database server answered within serverSelectionTimeoutMS (down, restarting, cut off)
  'TOOL_DISABLED', // disabledTools
  'UNKNOWN_TOOL', // no such tool
  'UNKNOWN_RESOURCE', // resources/read of a URI that names no resource of this server
  'UNKNOWN_PROMPT', // prompts/get or completion/complete naming no prompt or template of this server
  'INTERNAL', // a bug; details stay in the server
  'AUDIT_UNAVAILABLE', // the audit log cannot be written (disk full, I/O error): the call is not run, or its result withheld
  'APPROVAL_UNAVAILABLE', // a destructive or bulk call needs the user's approval and this client cannot be asked (no elicitation)
  'APPROVAL_DECLINED', // the user declined or cancelled the approval, did not answer in approvalTimeoutMs, or answered for other arguments
  'APPROVAL_REQUIRED', // audit only: a 2026-07-28 call answered input_required (the approval form and a sealed requestState); nothing ran, the retry decides
  // HTTP tier refusals
  'HOST_NOT_ALLOWED',
  'ORIGIN_NOT_ALLOWED',
  'PROXY_AUTH_REQUIRED',
  'TOKEN_NOT_ALLOWED',
  'BODY_TOO_LARGE',
  'SESSION_LIMIT', // the global session cap (maxSessions), the last resort behind the per-caller quota
  'SESSION_NOT_FOUND',
  'CALLER_SESSION_LIMIT', // this caller (subject + client) holds maxSessionsPerCaller sessions: 429 + Retry-After
  'CALLER_BUSY', // this caller has maxConcurrentRequestsPerCaller requests in flight: 429 + Retry-After
  'SERVER_BUSY', // maxConcurrentRequests in flight across all callers: 503 + Retry-After
  'BATCH_NOT_SUPPORTED', // a JSON-RPC batch array: no protocol revision this server negotiates has batching
  'RESPONSE_TOO_LARGE', // the answer to one HTTP request would exceed maxResponseBytes
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class ToolError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ToolError';
    this.code = code;
  }
}

const TIMEOUT_CODES = new Set([50, 262]); // MaxTimeMSExpired, ExceededTimeLimit
const UNAUTHORIZED_CODES = new Set([13, 18]); // Unauthorized, AuthenticationFailed
// The driver's names for "no server to talk to": selection timed out, the connection broke, the pool was cleared.
const UNAVAILABLE_ERRORS = new Set(['MongoServerSelectionError', 'MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoPoolClearedError']);
// A tool's only socket is its database connection. The driver lets some socket errors through unwrapped (a write
// to a connection the server closed, e.g. a killed database, surfaces as Node's EPIPE "socket has been ended").
const SOCKET_ERROR_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED']);

/** Maps anything thrown while serving a tool to a ToolError with a stable code. */
export function toToolError(err: unknown): ToolError {
  if (err instanceof ToolError) return err;
  const e = err as { code?: unknown; codeName?: unknown; message?: unknown; name?: unknown };
  const message = typeof e?.message === 'string' ? e.message : 'unexpected error';
  if (typeof e?.code === 'number' && TIMEOUT_CODES.has(e.code)) return new ToolError('TIMEOUT', message);
  if (e?.name === 'MongoOperationTimeoutError') return new ToolError('TIMEOUT', message);
  if (typeof e?.code === 'number' && UNAUTHORIZED_CODES.has(e.code)) return new ToolError('DB_UNAUTHORIZED', message);
  // Why a fixed message: the driver's names the server's address and the topology; the client needs only the cause.
  if ((typeof e?.name === 'string' && UNAVAILABLE_ERRORS.has(e.name)) || (typeof e?.code === 'string' && SOCKET_ERROR_CODES.has(e.code)))
    return new ToolError('DB_UNAVAILABLE', 'the database is unavailable; try again later');
  if (typeof e?.name === 'string' && e.name.startsWith('Mongo')) return new ToolError('DB_ERROR', message);
  return new ToolError('INTERNAL', 'internal error');
}

import type { z } from 'zod';
import type { MongoClient } from 'mongodb';
import type { CallToolResult, InputRequiredResult } from '@modelcontextprotocol/server';
import type { Config } from '../config/schema.ts';
import { redactText } from '../config/help.ts';
import { ToolError, toToolError, type ErrorCode } from '../errors.ts';
import type { AuditRecord, AuditSink } from '../audit/audit-log.ts';
import { argsDigest } from '../audit/args-digest.ts';
import type { ToolCallAttempt } from '../audit/tool-call-ledger.ts';
import { enforceQueryPolicy } from '../guard/query-policy.ts';
import { WRITE_SCOPE, type Identity } from '../identity/identity.ts';
import { isWriteOperation, namespaceOf, type ToolDefinition } from './tool.ts';
import { refusalFor } from './exposure.ts';
import { authorizeCall, namespaceVisibility, type CallAuthorization } from '../policy/authorize.ts';
import { PolicyDenied } from '../policy/denied.ts';
import { checkMcpName } from '../policy/mcp-name-hint.ts';
import type { PolicyEngine } from '../policy/engine.ts';
import { requireApproval } from '../approvals/approval-gate.ts';
import type { ApprovalChannel } from '../approvals/elicit-approval.ts';

export interface DispatchDeps {
  client: MongoClient;
  config: Config;
  audit: AuditSink;
  tools: readonly ToolDefinition[];
  /** The per-caller, per-namespace policy (policyFile); absent: the fixed guards alone decide. */
  policy?: PolicyEngine | undefined;
}

export interface CallInfo {
  name: string;
  args: unknown;
  identity: Identity;
  sessionId: string | undefined;
  /** How to ask this call's user for an approval (server.ts); absent: it cannot be asked (server/src/approvals/*). */
  approvals?: ApprovalChannel;
}

const REFUSALS = new Set<ErrorCode>([
  'READ_ONLY',
  'FORBIDDEN_STAGE',
  'NAMESPACE_FORBIDDEN',
  'SERVER_SIDE_JS_DISABLED',
  'INSUFFICIENT_SCOPE',
  'INVALID_ARGUMENT',
  'INDEX_CHECK',
  'TOOL_DISABLED',
  'UNKNOWN_TOOL',
  'RESULT_TOO_LARGE',
  'RESPONSE_TOO_LARGE',
  'POLICY_DENIED',
  'HEADER_MISMATCH',
  'APPROVAL_UNAVAILABLE',
  'APPROVAL_DECLINED',
]);

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  const path = issue?.path.length ? issue.path.join('.') : 'arguments';
  return `${path}: ${issue?.message ?? 'invalid'}`;
}

/** Every check, in order, before a tool touches the database. Throws a ToolError on refusal. */
function admit(
  tool: ToolDefinition | undefined,
  call: CallInfo,
  deps: DispatchDeps,
): { tool: ToolDefinition; args: unknown; policy: CallAuthorization | null } {
  checkMcpName(call.identity.nameHint, call.name);
  if (!tool) throw new ToolError('UNKNOWN_TOOL', `unknown tool: ${call.name.slice(0, 64)}`);
  const refusal = refusalFor(tool, deps.config);
  if (refusal === 'READ_ONLY') throw new ToolError('READ_ONLY', `${tool.name} writes data and this server is read-only`);
  if (refusal) throw new ToolError(refusal, `${tool.name} is disabled on this server`);
  if (isWriteOperation(tool.operationType) && !call.identity.scopes.includes(WRITE_SCOPE)) {
    throw new ToolError('INSUFFICIENT_SCOPE', `${tool.name} needs scope ${WRITE_SCOPE}`);
  }
  const parsed = tool.input.safeParse(call.args ?? {});
  if (!parsed.success) throw new ToolError('INVALID_ARGUMENT', describeIssue(parsed.error.issues[0]));
  enforceQueryPolicy(call.args, deps.config, call.identity);
  // The policy decision comes last: it sees only calls every fixed guard admitted, and may rewrite the
  // arguments (a redaction obligation) — the tool runs with what the policy returned (server/src/policy/*).
  const policy = deps.policy ? authorizeCall(deps.policy, tool, parsed.data, call.identity) : null;
  return { tool, args: policy?.args ?? parsed.data, policy };
}

/**
 * What a record knows before any check: who, which tool, which namespace, a digest of the arguments.
 * Never throws, whatever was sent (the digest does not recurse; the sink bounds every field).
 */
function attemptRecord(name: unknown, args: unknown, identity: Identity, sessionId: string | undefined, tool?: ToolDefinition): AuditRecord {
  return {
    time: new Date().toISOString(),
    event: 'tool_call',
    requestId: identity.requestId ?? null,
    tokenId: identity.tokenId ?? null,
    sessionId: sessionId ?? null,
    subject: identity.subject,
    username: identity.username,
    agent: identity.clientId,
    tool: tool ? tool.name : typeof name === 'string' ? name : null,
    operationType: tool?.operationType ?? null,
    namespace: namespaceOf(args),
    argsDigest: argsDigest(args),
    outcome: 'ok',
    errorCode: null,
    documents: null,
  };
}

/**
 * Runs one tools/call end to end and writes exactly one audit record, whatever happens. Only a call that can
 * ask its user on 2026-07-28 (an approvals channel) may be answered input_required instead of a result.
 */
export async function dispatchToolCall(call: CallInfo & { approvals?: undefined }, deps: DispatchDeps): Promise<CallToolResult>;
export async function dispatchToolCall(call: CallInfo, deps: DispatchDeps): Promise<CallToolResult | InputRequiredResult>;
export async function dispatchToolCall(call: CallInfo, deps: DispatchDeps): Promise<CallToolResult | InputRequiredResult> {
  const started = performance.now();
  const tool = deps.tools.find((t) => t.name === call.name);
  const record = attemptRecord(call.name, call.args, call.identity, call.sessionId, tool);
  try {
    // Fail closed: a call whose record could not be written does not run (server/src/audit/audit-log.ts).
    deps.audit.ready?.();
    const admitted = admit(tool, call, deps);
    if (admitted.policy) record.policyRule = admitted.policy.rule;
    const ask = await requireApproval(
      {
        tool: admitted.tool,
        args: admitted.args as Record<string, unknown>,
        rawArgs: call.args,
        channel: call.approvals,
        policyRule: admitted.policy?.approval ?? null,
      },
      record,
      deps.client,
      deps.config,
    );
    // 2026-07-28: the approval is asked by answering input_required; the retry carries the user's answer.
    if (ask) return ask;
    const visible = deps.policy ? namespaceVisibility(deps.policy, call.identity) : undefined;
    // A write is on record before it runs: the tool_call record is written when the call ends, and a process
    // killed in between (SIGKILL, OOM) would leave a write in the database that no MCP record names. Written
    // synchronously; if it cannot be written, the write does not run (AUDIT_UNAVAILABLE).
    if (isWriteOperation(admitted.tool.operationType)) {
      deps.audit.write({ ...record, time: new Date().toISOString(), event: 'tool_call_started', outcome: 'started' });
    }
    const out = await admitted.tool.execute(admitted.args as never, { client: deps.client, config: deps.config, identity: call.identity, visible });
    record.documents = out.documents;
    return { content: [{ type: 'text', text: out.text }] };
  } catch (err) {
    const e = toToolError(err);
    record.outcome = REFUSALS.has(e.code) ? 'refused' : 'error';
    record.errorCode = e.code;
    if (err instanceof PolicyDenied) record.policyRule = err.rule;
    if (e.code === 'INTERNAL')
      process.stderr.write(`internal error in ${record.tool}: ${redactText(String((err as Error)?.stack ?? err), secretsOf(deps.config))}\n`);
    const message = redactText(e.message, secretsOf(deps.config));
    return { isError: true, content: [{ type: 'text', text: `Error [${e.code}]: ${message}` }], structuredContent: { error: { code: e.code, message } } };
  } finally {
    record.durationMs = Math.round(performance.now() - started);
    deps.audit.write(record);
  }
}

/**
 * The one record of a tools/call the protocol layer answered itself, before dispatch: params the SDK
 * refused (-32602: `arguments` not an object, no `name`), any other JSON-RPC error, or a message it drops
 * unanswered (params not an object) — none of them ran a tool.
 */
export function auditUnansweredCall(attempt: ToolCallAttempt, identity: Identity, rpcCode: number | null, audit: AuditSink): void {
  const params = (attempt.params ?? {}) as { name?: unknown; arguments?: unknown };
  const record = attemptRecord(params.name, params.arguments ?? {}, identity, attempt.sessionId);
  record.outcome = rpcCode === -32603 ? 'error' : 'refused';
  record.errorCode = rpcCode === -32602 ? 'INVALID_PARAMS' : rpcCode === -32603 ? 'INTERNAL' : 'PROTOCOL_ERROR';
  if (rpcCode !== null) record.rpcCode = rpcCode;
  record.durationMs = Math.round(performance.now() - attempt.received);
  audit.write(record);
}

/** The configured values that must never appear in an answer (redacted from database messages). */
export function secretsOf(config: Config): string[] {
  return [config.connectionString, config.proxySecret].filter((s) => s !== '');
}

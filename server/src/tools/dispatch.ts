import { z } from 'zod';
import type { MongoClient } from 'mongodb';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Config } from '../config/schema.ts';
import { redactText } from '../config/help.ts';
import { ToolError, toToolError, type ErrorCode } from '../errors.ts';
import { argsDigest, type AuditRecord, type AuditSink } from '../audit/audit-log.ts';
import { enforceQueryPolicy } from '../guard/query-policy.ts';
import { WRITE_SCOPE, type Identity } from '../identity/identity.ts';
import { isWriteOperation, namespaceOf, type ToolDefinition } from './tool.ts';
import { refusalFor } from './exposure.ts';

export interface DispatchDeps {
  client: MongoClient;
  config: Config;
  audit: AuditSink;
  tools: readonly ToolDefinition[];
}

export interface CallInfo {
  name: string;
  args: unknown;
  identity: Identity;
  sessionId: string | undefined;
}

const REFUSALS = new Set<ErrorCode>(['READ_ONLY', 'FORBIDDEN_STAGE', 'SERVER_SIDE_JS_DISABLED', 'INSUFFICIENT_SCOPE', 'INVALID_ARGUMENT', 'INDEX_CHECK', 'TOOL_DISABLED', 'UNKNOWN_TOOL', 'RESULT_TOO_LARGE']);

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  const path = issue?.path.length ? issue.path.join('.') : 'arguments';
  return `${path}: ${issue?.message ?? 'invalid'}`;
}

/** Every check, in order, before a tool touches the database. Throws a ToolError on refusal. */
function admit(tool: ToolDefinition | undefined, call: CallInfo, deps: DispatchDeps): { tool: ToolDefinition; args: unknown } {
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
  return { tool, args: parsed.data };
}

/** Runs one tools/call end to end and writes exactly one audit record, whatever happens. */
export async function dispatchToolCall(call: CallInfo, deps: DispatchDeps): Promise<CallToolResult> {
  const started = performance.now();
  const tool = deps.tools.find((t) => t.name === call.name);
  const record: AuditRecord = {
    time: new Date().toISOString(),
    event: 'tool_call',
    requestId: call.identity.requestId ?? null,
    sessionId: call.sessionId ?? null,
    subject: call.identity.subject,
    username: call.identity.username,
    agent: call.identity.clientId,
    tool: tool ? tool.name : call.name.slice(0, 64),
    operationType: tool?.operationType ?? null,
    namespace: namespaceOf(call.args),
    argsDigest: argsDigest(call.args),
    outcome: 'ok',
    errorCode: null,
    documents: null,
  };
  try {
    const admitted = admit(tool, call, deps);
    const out = await admitted.tool.execute(admitted.args as never, { client: deps.client, config: deps.config, identity: call.identity });
    record.documents = out.documents;
    return { content: [{ type: 'text', text: out.text }] };
  } catch (err) {
    const e = toToolError(err);
    record.outcome = REFUSALS.has(e.code) ? 'refused' : 'error';
    record.errorCode = e.code;
    if (e.code === 'INTERNAL') process.stderr.write(`internal error in ${record.tool}: ${redactText(String((err as Error)?.stack ?? err), secretsOf(deps.config))}\n`);
    const message = redactText(e.message, secretsOf(deps.config));
    return { isError: true, content: [{ type: 'text', text: `Error [${e.code}]: ${message}` }], structuredContent: { error: { code: e.code, message } } };
  } finally {
    record.durationMs = Math.round(performance.now() - started);
    deps.audit.write(record);
  }
}

function secretsOf(config: Config): string[] {
  return [config.connectionString, config.proxySecret].filter((s) => s !== '');
}

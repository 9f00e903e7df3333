import type { MongoClient } from 'mongodb';
import type { Config } from '../config/schema.ts';
import type { AuditRecord } from '../audit/audit-log.ts';
import type { ToolDefinition } from '../tools/tool.ts';
import { approvalNeeded } from './approval-rule.ts';
import { approvalRefusal, askApproval, type ApprovalChannel } from './elicit-approval.ts';

export interface ApprovalCall {
  tool: ToolDefinition;
  /** The arguments after the tool's schema (defaults applied): what the rule judges. */
  args: Record<string, unknown>;
  /** The arguments as sent: what the digest covers and what the user is shown. */
  rawArgs: unknown;
  channel: ApprovalChannel | undefined;
  /** A policy rule that requires approval for this call (server/src/policy/*, allow-with-approval), or null. */
  policyRule?: string | null;
}

const NO_CHANNEL: ApprovalChannel = { kind: 'unavailable', why: 'this request cannot carry an elicitation' };

/**
 * Runs between the admission checks and the tool: when the call needs approval (approval-rule.ts), asks the
 * user for the exact argument digest the audit record carries, writes the outcome (and why it was asked)
 * into that record, and throws APPROVAL_UNAVAILABLE / APPROVAL_DECLINED unless the user approved.
 */
export async function requireApproval(call: ApprovalCall, record: AuditRecord, client: MongoClient, config: Config): Promise<void> {
  const need = await approvalNeeded(call.tool, call.args, client, config, call.policyRule ?? null);
  if (!need) return;
  const via = call.channel ?? NO_CHANNEL;
  record.approvalReason = need.reason;
  record.approval = await askApproval(need, record.argsDigest ?? '', call.rawArgs, via, config.approvalTimeoutMs);
  const refusal = approvalRefusal(record.approval, need, via, config.approvalTimeoutMs);
  if (refusal) throw refusal;
}

import type { InputRequiredResult } from '@modelcontextprotocol/server';
import type { MongoClient } from 'mongodb';
import type { Config } from '../config/schema.ts';
import type { AuditRecord } from '../audit/audit-log.ts';
import type { ToolDefinition } from '../tools/tool.ts';
import { approvalNeeded } from './approval-rule.ts';
import { approvalRound } from './approval-round.ts';
import { approvalRefusal, askApproval, type ApprovalChannel, type ApprovalOutcome } from './elicit-approval.ts';

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
 * On 2026-07-28 the first call is answered with the `input_required` result returned here (nothing ran,
 * audited `approval: requested`, APPROVAL_REQUIRED); the retry carrying the answer is judged like any other.
 */
export async function requireApproval(call: ApprovalCall, record: AuditRecord, client: MongoClient, config: Config): Promise<InputRequiredResult | null> {
  const need = await approvalNeeded(call.tool, call.args, client, config, call.policyRule ?? null);
  if (!need) return null;
  const via = call.channel ?? NO_CHANNEL;
  const digest = record.argsDigest ?? '';
  record.approvalReason = need.reason;
  let outcome: ApprovalOutcome;
  if (via.kind === 'round-trip') {
    // The state lives as long as a pushed question would wait for its answer (approvalTimeoutMs).
    const ttlSeconds = Math.max(1, Math.ceil(config.approvalTimeoutMs / 1000));
    const round = await approvalRound(need, { tool: call.tool.name, digest, args: call.rawArgs }, via.round, ttlSeconds);
    if ('ask' in round) {
      Object.assign(record, { approval: 'requested', outcome: 'refused', errorCode: 'APPROVAL_REQUIRED' } satisfies Partial<AuditRecord>);
      return round.ask;
    }
    outcome = round.outcome;
  } else {
    outcome = await askApproval(need, digest, call.rawArgs, via, config.approvalTimeoutMs);
  }
  record.approval = outcome;
  const refusal = approvalRefusal(outcome, need, via, config.approvalTimeoutMs);
  if (refusal) throw refusal;
  return null;
}

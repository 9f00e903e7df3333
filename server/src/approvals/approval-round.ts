import { inputRequired, type InputRequiredResult } from '@modelcontextprotocol/server';
import type { Identity } from '../identity/identity.ts';
import type { ApprovalNeed } from './approval-rule.ts';
import { approvalStates, type ApprovalStates } from './approval-state.ts';
import { approvalForm, readAnswer, type ApprovalOutcome } from './elicit-approval.ts';

/** The key of our one input request: the retry's `inputResponses` answers it under the same key. */
export const APPROVAL_INPUT = 'approval';

/** A 2026-07-28 tools/call as the approval sees it: who calls, and what a retry brought back (client input). */
export interface ApprovalRound {
  caller: Identity;
  /** The retry's `inputResponses[APPROVAL_INPUT]`; undefined on a first call. */
  answer: unknown;
  /** The echoed `requestState`, unverified (no SDK verify hook: a bad one must be our refusal, audited). */
  state: string | undefined;
}

/**
 * The approval on protocol revision 2026-07-28, which has no server-to-client request during a call: the
 * first call is answered `input_required` with the approval form and a sealed state naming this exact call
 * (approval-state.ts); the client asks its user and retries with the answer and the state. The retry runs
 * only when the state verifies, names this tool, these arguments and this caller, was never answered before,
 * and the answer approves this digest (MCP spec, basic/patterns/mrtr).
 */
export async function approvalRound(
  need: ApprovalNeed,
  call: { tool: string; digest: string; args: unknown },
  round: ApprovalRound,
  ttlSeconds: number,
  states: ApprovalStates = approvalStates,
): Promise<{ ask: InputRequiredResult } | { outcome: ApprovalOutcome }> {
  const binding = { tool: call.tool, digest: call.digest, caller: round.caller };
  if (round.state === undefined && round.answer === undefined) {
    const requestState = await states.mint(binding, ttlSeconds);
    return { ask: inputRequired({ inputRequests: { [APPROVAL_INPUT]: inputRequired.elicit(approvalForm(need, call.digest, call.args)) }, requestState }) };
  }
  if (round.state === undefined) return { outcome: 'forged' };
  const check = await states.check(round.state, binding);
  if (!check.ok) return { outcome: check.why === 'expired' ? 'timeout' : check.why };
  return { outcome: readAnswer(round.answer, call.digest) };
}

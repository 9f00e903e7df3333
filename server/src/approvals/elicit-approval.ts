import { ProtocolError, ProtocolErrorCode, SdkError, SdkErrorCode, type ElicitRequestFormParams, type ElicitResult } from '@modelcontextprotocol/server';
import { canonicalJson } from '../audit/args-digest.ts';
import { ToolError } from '../errors.ts';
import type { ApprovalNeed } from './approval-rule.ts';
import type { ApprovalRound } from './approval-round.ts';

/**
 * How this call can reach its user: an elicitation/create request (2025 revisions), the `input_required`
 * round trip (2026-07-28, approval-round.ts), or why it cannot.
 */
export type ApprovalChannel =
  | { kind: 'elicit'; elicit: (params: ElicitRequestFormParams, timeoutMs: number) => Promise<ElicitResult> }
  | { kind: 'round-trip'; round: ApprovalRound }
  | { kind: 'unavailable'; why: string };

/**
 * What an approval's outcome is, as the audit record says it. `forged`: a 2026-07-28 retry whose requestState
 * this process did not mint (or none); `replayed`: a state already answered once (approval-state.ts).
 */
export type ApprovalOutcome = 'approved' | 'declined' | 'cancelled' | 'timeout' | 'mismatch' | 'forged' | 'replayed' | 'unavailable';

/** The most of the arguments shown to the user; the digest names them all. */
const SHOWN_ARGS_CHARS = 1500;

/**
 * The form the user answers. `argsDigest` is a one-value choice: the answer must name the digest of the
 * exact arguments this call carries, so an approval can never be replayed onto other arguments.
 */
export function approvalForm(need: ApprovalNeed, digest: string, args: unknown): ElicitRequestFormParams {
  const shown = canonicalJson(args);
  const argsText = shown.length > SHOWN_ARGS_CHARS ? `${shown.slice(0, SHOWN_ARGS_CHARS)}… (cut; the digest covers all of it)` : shown;
  return {
    mode: 'form',
    message: `Approval needed — ${need.summary}\nArguments: ${argsText}\nArguments digest: ${digest}\nApprove only if you asked for exactly this.`,
    requestedSchema: {
      type: 'object',
      properties: {
        approve: { type: 'boolean', title: 'Run this operation', default: false },
        argsDigest: { type: 'string', title: 'Arguments digest', enum: [digest], default: digest },
      },
      required: ['approve', 'argsDigest'],
    },
  };
}

/** Asks the user and reads the answer; never throws (every failure is an outcome). */
export async function askApproval(need: ApprovalNeed, digest: string, args: unknown, channel: ApprovalChannel, timeoutMs: number): Promise<ApprovalOutcome> {
  if (channel.kind !== 'elicit') return 'unavailable';
  let answer: ElicitResult;
  try {
    answer = await channel.elicit(approvalForm(need, digest, args), timeoutMs);
  } catch (e) {
    if (e instanceof SdkError && e.code === SdkErrorCode.RequestTimeout) return 'timeout';
    // The SDK checks the answer against the form first: an argsDigest other than the one offered fails there.
    if (e instanceof ProtocolError && e.code === ProtocolErrorCode.InvalidParams) return 'mismatch';
    return 'unavailable';
  }
  return readAnswer(answer, digest);
}

/**
 * The outcome an elicitation answer gives: approved only when accepted, ticked, and naming `digest`. The answer
 * is client input (on 2026-07-28 the SDK does not check it against the form), so nothing else is trusted.
 */
export function readAnswer(answer: unknown, digest: string): ApprovalOutcome {
  const a = (typeof answer === 'object' && answer !== null ? answer : {}) as { action?: unknown; content?: unknown };
  if (a.action === 'decline') return 'declined';
  if (a.action !== 'accept') return 'cancelled';
  const content = (typeof a.content === 'object' && a.content !== null ? a.content : {}) as Record<string, unknown>;
  if (content.argsDigest !== digest) return 'mismatch';
  return content.approve === true ? 'approved' : 'declined';
}

/** The refusal for every outcome but `approved`: a closed code and a sentence without argument values. */
export function approvalRefusal(outcome: ApprovalOutcome, need: ApprovalNeed, channel: ApprovalChannel, timeoutMs: number): ToolError | null {
  switch (outcome) {
    case 'approved':
      return null;
    case 'unavailable':
      return new ToolError(
        'APPROVAL_UNAVAILABLE',
        `${need.summary} It needs the user's approval through MCP elicitation, and ${channel.kind === 'unavailable' ? channel.why : "the elicitation request could not be delivered or was answered with an error (over HTTP it needs the session's GET stream)"}; the call was not run.`,
      );
    case 'timeout':
      return new ToolError('APPROVAL_DECLINED', `no approval within approvalTimeoutMs=${timeoutMs}; the call was not run.`);
    case 'mismatch':
      return new ToolError('APPROVAL_DECLINED', 'the approval named another call (other arguments, tool or caller); the call was not run.');
    case 'forged':
      return new ToolError(
        'APPROVAL_DECLINED',
        'the approval came without a requestState this server issued (altered, made up, or from before a restart); the call was not run.',
      );
    case 'replayed':
      return new ToolError('APPROVAL_DECLINED', 'this approval was already used once; call again to be asked again. The call was not run.');
    default:
      return new ToolError('APPROVAL_DECLINED', `the user ${outcome} the approval; the call was not run.`);
  }
}

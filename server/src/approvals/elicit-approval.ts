import { ProtocolError, ProtocolErrorCode, SdkError, SdkErrorCode, type ElicitRequestFormParams, type ElicitResult } from '@modelcontextprotocol/server';
import { canonicalJson } from '../audit/args-digest.ts';
import { ToolError } from '../errors.ts';
import type { ApprovalNeed } from './approval-rule.ts';

/** How this call can reach its user: an elicitation/create request, or why it cannot. */
export type ApprovalChannel =
  | { kind: 'elicit'; elicit: (params: ElicitRequestFormParams, timeoutMs: number) => Promise<ElicitResult> }
  | { kind: 'unavailable'; why: string };

/** What became of an approval, as the audit record says it. */
export type ApprovalOutcome = 'approved' | 'declined' | 'cancelled' | 'timeout' | 'mismatch' | 'unavailable';

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
  if (channel.kind === 'unavailable') return 'unavailable';
  let answer: ElicitResult;
  try {
    answer = await channel.elicit(approvalForm(need, digest, args), timeoutMs);
  } catch (e) {
    if (e instanceof SdkError && e.code === SdkErrorCode.RequestTimeout) return 'timeout';
    // The SDK checks the answer against the form first: an argsDigest other than the one offered fails there.
    if (e instanceof ProtocolError && e.code === ProtocolErrorCode.InvalidParams) return 'mismatch';
    return 'unavailable';
  }
  if (answer.action === 'decline') return 'declined';
  if (answer.action !== 'accept') return 'cancelled';
  const content = answer.content ?? {};
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
      return new ToolError('APPROVAL_DECLINED', 'the approval named other arguments (argsDigest); the call was not run.');
    default:
      return new ToolError('APPROVAL_DECLINED', `the user ${outcome} the approval; the call was not run.`);
  }
}

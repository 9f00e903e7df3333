import { CLIENT_CAPABILITIES_META_KEY, type ClientCapabilities, type Server, type ServerContext } from '@modelcontextprotocol/server';
import type { Identity } from '../identity/identity.ts';
import { APPROVAL_INPUT } from './approval-round.ts';
import type { ApprovalChannel } from './elicit-approval.ts';

/** The first revision without server-to-client requests: input is asked with `input_required` results there. */
const NO_PUSH_REVISION = '2026-07-28';

/** Why this client cannot answer an approval form, or null when it can. */
function formGap(caps: ClientCapabilities | undefined): string | null {
  const e = caps?.elicitation;
  if (!e) return 'this client did not declare the elicitation capability';
  if (e.form === undefined && e.url !== undefined) return 'this client declared only URL-mode elicitation, not the form an approval needs';
  return null;
}

/**
 * How a tools/call on this server instance can ask its user. On 2026-07-28 (no server-to-client request during
 * a call) by answering `input_required` when the request's envelope declares form elicitation (approval-round.ts).
 * A 2025-era session (or stdio) sends an `elicitation/create` request when the client declared form elicitation
 * at initialize. Over Streamable HTTP it is sent without a related request id, so it travels on the session's
 * GET stream: our POSTs are answered as single JSON bodies (enableJsonResponse), which carry no server-to-client request.
 */
export function approvalChannel(server: Server, ctx: ServerContext, caller: Identity): ApprovalChannel {
  const version = server.getNegotiatedProtocolVersion();
  if (version !== undefined && version >= NO_PUSH_REVISION) {
    // The capabilities this request's envelope declares (the SDK types the envelope as {}).
    const envelope = ctx.mcpReq.envelope as Record<string, ClientCapabilities | undefined> | undefined;
    const gap = formGap(envelope?.[CLIENT_CAPABILITIES_META_KEY]);
    if (gap) return { kind: 'unavailable', why: gap };
    // Without a requestState.verify hook the SDK hands the echoed state over raw: approval-state.ts checks it.
    const state = ctx.mcpReq.requestState<unknown>();
    return {
      kind: 'round-trip',
      round: { caller, answer: ctx.mcpReq.inputResponses?.[APPROVAL_INPUT], state: typeof state === 'string' ? state : undefined },
    };
  }
  const gap = formGap(server.getClientCapabilities());
  if (gap) return { kind: 'unavailable', why: gap };
  return {
    kind: 'elicit',
    async elicit(params, timeoutMs) {
      await getStreamOpen(server, Math.min(GET_STREAM_WAIT_MS, timeoutMs));
      return server.elicitInput(params, { timeout: timeoutMs });
    },
  };
}

/** How long a call waits for the session's GET stream: clients open it right after initialize, concurrently. */
const GET_STREAM_WAIT_MS = 5000;

/**
 * Resolves once the session's GET (standalone SSE) stream is open; throws when it does not open in time.
 * The SDK's transport drops a message for a GET stream that is not (yet) open without a word, and the
 * approval would then wait approvalTimeoutMs for an answer to a question never asked. The SDK offers no
 * public "is it open": this reads its stream table, and on any other transport (stdio, in-memory, or an
 * SDK whose internals differ) there is nothing to wait for.
 */
async function getStreamOpen(server: Server, waitMs: number): Promise<void> {
  const t = server.transport as { _streamMapping?: unknown; _standaloneSseStreamId?: unknown } | undefined;
  const streams = t?._streamMapping;
  if (!(streams instanceof Map) || typeof t?._standaloneSseStreamId !== 'string') return;
  const id = t._standaloneSseStreamId;
  for (const deadline = Date.now() + waitMs; !streams.has(id); ) {
    if (Date.now() >= deadline) throw new Error('no GET stream open to carry the elicitation request');
    await new Promise((r) => setTimeout(r, 50));
  }
}

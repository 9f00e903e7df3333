/**
 * Approvals on protocol revision 2026-07-28 (no server-to-client request during a call): the official client
 * answers the server's `input_required` with its elicitation handler and retries with the sealed requestState.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client, StreamableHTTPClientTransport, type ElicitRequestFormParams } from '@modelcontextprotocol/client';
import { argsDigest } from '../../src/audit/args-digest.ts';
import { approveAll, errorCodeOf, textOf, type ElicitAnswer } from './helpers/in-memory.ts';
import { identityHeaders, startHttp } from './helpers/http.ts';

const drop = { name: 'drop-collection', arguments: { database: 'shop', collection: 'orders' } };

let srv: Awaited<ReturnType<typeof startHttp>>;
beforeAll(async () => {
  srv = await startHttp({ readOnly: false, approvalTimeoutMs: 1000 });
});
afterAll(async () => srv.close());

/**
 * A 2026-07-28 client of the real HTTP transport (one server instance per request), as `subject` with mcp:write;
 * `manual`: input_required comes back to the test instead of being answered.
 */
async function connect2026(o: { elicit?: ElicitAnswer; manual?: boolean; subject?: string } = {}) {
  const client = new Client(
    { name: 'mrtr-test', version: '1.0.0' },
    {
      versionNegotiation: { mode: { pin: '2026-07-28' } },
      ...(o.elicit || o.manual ? { capabilities: { elicitation: { form: {} } } } : {}),
      ...(o.manual ? { inputRequired: { autoFulfill: false } } : {}),
    },
  );
  const asked: ElicitRequestFormParams[] = [];
  const answer = o.elicit;
  if (answer)
    client.setRequestHandler('elicitation/create', (req) => (asked.push(req.params as ElicitRequestFormParams), answer(req.params as ElicitRequestFormParams)));
  const from = srv.audit.records.length;
  const headers = identityHeaders(o.subject ?? 'user-1', 'mcp:read mcp:write');
  await client.connect(new StreamableHTTPClientTransport(new URL(srv.url), { requestInit: { headers } }));
  const calls = () => srv.audit.records.slice(from).filter((r) => r.event === 'tool_call');
  return { client, asked, calls, close: () => client.close() };
}

interface InputRequired {
  resultType: 'input_required';
  inputRequests: Record<string, { method: string; params: ElicitRequestFormParams }>;
  requestState: string;
}

describe('approvals over 2026-07-28: the input_required round trip', () => {
  it('asks through input_required for the exact argument digest and runs the drop once the client retries approved', async () => {
    const h = await connect2026({ elicit: approveAll });
    const r = await h.client.callTool(drop);
    // Approved: the tool ran and reached the (unreachable) database — the gate let it through.
    expect(errorCodeOf(r), textOf(r)).toBe('DB_UNAVAILABLE');
    expect(h.asked).toHaveLength(1);
    const digest = argsDigest(drop.arguments);
    expect(h.asked[0]!.message).toContain('drop-collection: drops the collection shop.orders');
    expect(h.asked[0]!.requestedSchema.properties.argsDigest).toMatchObject({ enum: [digest] });
    expect(h.calls().map((x) => [x.approval, x.outcome, x.errorCode, x.argsDigest])).toEqual([
      ['requested', 'refused', 'APPROVAL_REQUIRED', digest],
      ['approved', 'error', 'DB_UNAVAILABLE', digest],
    ]);
    await h.close();
  });

  it.each([
    ['declines', { action: 'decline' as const }, 'declined'],
    ['cancels', { action: 'cancel' as const }, 'cancelled'],
    ['accepts for another digest', { action: 'accept' as const, content: { approve: true, argsDigest: argsDigest({ other: 1 }) } }, 'mismatch'],
  ])('refuses with APPROVAL_DECLINED when the user %s, audited', async (_what, answer, outcome) => {
    const h = await connect2026({ elicit: () => answer });
    const r = await h.client.callTool(drop);
    expect(errorCodeOf(r)).toBe('APPROVAL_DECLINED');
    expect(h.calls().at(-1)).toMatchObject({ outcome: 'refused', errorCode: 'APPROVAL_DECLINED', approval: outcome, approvalReason: 'drop' });
    await h.close();
  });

  it('refuses with APPROVAL_UNAVAILABLE when the request envelope declares no elicitation, with no input_required round', async () => {
    const h = await connect2026();
    const r = await h.client.callTool(drop);
    expect(errorCodeOf(r)).toBe('APPROVAL_UNAVAILABLE');
    expect(textOf(r)).toMatch(/did not declare the elicitation capability/);
    expect(h.calls()).toHaveLength(1);
    expect(h.calls()[0]).toMatchObject({ approval: 'unavailable', errorCode: 'APPROVAL_UNAVAILABLE' });
    await h.close();
  });

  it('refuses a retry whose approved state names other arguments, a forged or missing state, and a second use of an approved state', async () => {
    const h = await connect2026({ manual: true });
    const first = (await h.client.callTool(drop, { allowInputRequired: true })) as unknown as InputRequired;
    expect(first.resultType).toBe('input_required');
    const form = first.inputRequests.approval!.params;
    const digest = argsDigest(drop.arguments);
    expect(form.requestedSchema.properties.argsDigest).toMatchObject({ enum: [digest] });
    const approved = { approval: { action: 'accept', content: { approve: true, argsDigest: digest } } };
    const retry = (args: Record<string, unknown>, extra: Record<string, unknown>) =>
      h.client.callTool({ name: drop.name, arguments: args, ...extra } as typeof drop, { allowInputRequired: true });
    const other = { database: 'shop', collection: 'customers' };
    const cases = [
      ['other arguments', other, { inputResponses: approved, requestState: first.requestState }, 'mismatch'],
      ['a forged state', drop.arguments, { inputResponses: approved, requestState: `${first.requestState.slice(0, -4)}AAAA` }, 'forged'],
      ['no state', drop.arguments, { inputResponses: approved }, 'forged'],
      ['the state, once', drop.arguments, { inputResponses: approved, requestState: first.requestState }, 'approved'],
      ['the state, again', drop.arguments, { inputResponses: approved, requestState: first.requestState }, 'replayed'],
    ] as const;
    const seen: unknown[] = [];
    for (const [, args, extra] of cases) {
      const r = await retry(args, extra);
      // The approved one ran: it reached the (unreachable) database, whatever error that gives.
      const code = errorCodeOf(r);
      seen.push([code?.startsWith('APPROVAL_') ? code : 'ran', h.calls().at(-1)?.approval]);
    }
    expect(seen).toEqual(cases.map(([, , , outcome]) => [outcome === 'approved' ? 'ran' : 'APPROVAL_DECLINED', outcome]));
    await h.close();
  });

  it('refuses a retry by another user carrying an approved state, and one whose state outlived approvalTimeoutMs', async () => {
    const alice = await connect2026({ manual: true });
    const first = (await alice.client.callTool(drop, { allowInputRequired: true })) as unknown as InputRequired;
    const approved = { approval: { action: 'accept', content: { approve: true, argsDigest: argsDigest(drop.arguments) } } };
    const mallory = await connect2026({ manual: true, subject: 'user-2' });
    const stolen = await mallory.client.callTool({ ...drop, inputResponses: approved, requestState: first.requestState } as typeof drop);
    expect([errorCodeOf(stolen), mallory.calls().at(-1)?.approval]).toEqual(['APPROVAL_DECLINED', 'mismatch']);
    // approvalTimeoutMs=1000: the state lives one second (the codec counts whole seconds, so past 2 s it is gone).
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2_500);
    const late = await alice.client
      .callTool({ ...drop, inputResponses: approved, requestState: first.requestState } as typeof drop)
      .finally(() => vi.useRealTimers());
    expect([errorCodeOf(late), alice.calls().at(-1)?.approval]).toEqual(['APPROVAL_DECLINED', 'timeout']);
    expect(textOf(late)).toMatch(/approvalTimeoutMs=1000/);
    await alice.close();
    await mallory.close();
  });
});

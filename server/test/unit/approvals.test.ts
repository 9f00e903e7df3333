import { describe, expect, it } from 'vitest';
import type { ElicitRequestFormParams } from '@modelcontextprotocol/server';
import { argsDigest } from '../../src/audit/args-digest.ts';
import { approveAll, connectInMemory, errorCodeOf, textOf, type ElicitAnswer } from './helpers/in-memory.ts';

const drop = { name: 'drop-collection', arguments: { database: 'shop', collection: 'orders' } };

/** A client that records what it was asked and answers with `answer`. */
function asking(answer: ElicitAnswer) {
  const asked: ElicitRequestFormParams[] = [];
  return { asked, elicit: (p: ElicitRequestFormParams) => (asked.push(p), answer(p)) };
}

describe('approvals for destructive operations (MCP elicitation)', () => {
  it('refuses a drop with APPROVAL_UNAVAILABLE when the client cannot be asked, runs nothing, and audits it', async () => {
    const h = await connectInMemory();
    const r = await h.client.callTool(drop);
    expect(errorCodeOf(r)).toBe('APPROVAL_UNAVAILABLE');
    expect(textOf(r)).toMatch(/did not declare the elicitation capability/);
    expect(h.audit.records[0]).toMatchObject({
      tool: 'drop-collection',
      outcome: 'refused',
      errorCode: 'APPROVAL_UNAVAILABLE',
      approval: 'unavailable',
      approvalReason: 'drop',
    });
    await h.close();
  });

  it('asks for the exact argument digest, naming the operation and namespace, and runs the drop only once approved', async () => {
    const c = asking(approveAll);
    const h = await connectInMemory({}, { elicit: c.elicit });
    const r = await h.client.callTool(drop);
    // Approved: the tool ran and reached the (unreachable) database — the gate let it through.
    expect(errorCodeOf(r)).toBe('DB_UNAVAILABLE');
    expect(c.asked).toHaveLength(1);
    const digest = argsDigest(drop.arguments);
    expect(c.asked[0]!.message).toContain('drop-collection');
    expect(c.asked[0]!.message).toContain('shop.orders');
    expect(c.asked[0]!.message).toContain(digest);
    expect(c.asked[0]!.requestedSchema.properties.argsDigest).toMatchObject({ enum: [digest] });
    expect(h.audit.records.filter((x) => x.event === 'tool_call')[0]).toMatchObject({
      argsDigest: digest,
      approval: 'approved',
      approvalReason: 'drop',
      errorCode: 'DB_UNAVAILABLE',
    });
    await h.close();
  });

  it.each([
    ['declined', { action: 'decline' as const }, 'declined'],
    ['cancelled', { action: 'cancel' as const }, 'cancelled'],
    ['accepted without ticking approve', { action: 'accept' as const, content: { approve: false, argsDigest: argsDigest(drop.arguments) } }, 'declined'],
    [
      'accepted for another digest',
      { action: 'accept' as const, content: { approve: true, argsDigest: argsDigest({ database: 'shop', collection: 'other' }) } },
      'mismatch',
    ],
  ])('refuses with APPROVAL_DECLINED when the user %s, and audits the outcome', async (_what, answer, outcome) => {
    const h = await connectInMemory({}, { elicit: () => answer });
    const r = await h.client.callTool(drop);
    expect(errorCodeOf(r)).toBe('APPROVAL_DECLINED');
    expect(h.audit.records[0]).toMatchObject({ outcome: 'refused', errorCode: 'APPROVAL_DECLINED', approval: outcome });
    await h.close();
  });

  it('asks before delete-many and update-many with an empty filter, and not before a drop-index or a read', async () => {
    const c = asking(() => ({ action: 'decline' }));
    const h = await connectInMemory({}, { elicit: c.elicit });
    const ns = { database: 'shop', collection: 'orders' };
    expect(errorCodeOf(await h.client.callTool({ name: 'delete-many', arguments: { ...ns, filter: {} } }))).toBe('APPROVAL_DECLINED');
    expect(errorCodeOf(await h.client.callTool({ name: 'update-many', arguments: { ...ns, update: { $set: { a: 1 } } } }))).toBe('APPROVAL_DECLINED');
    expect(c.asked.map((p) => p.message.split('\n')[0])).toEqual([
      'Approval needed — delete-many: deletes EVERY document of shop.orders (empty filter).',
      'Approval needed — update-many: updates EVERY document of shop.orders (empty filter).',
    ]);
    await h.client.callTool({ name: 'drop-index', arguments: { ...ns, indexName: 'a_1' } });
    await h.client.callTool({ name: 'find', arguments: { ...ns, filter: {} } });
    expect(c.asked).toHaveLength(2);
    expect(h.audit.records.filter((x) => x.event === 'tool_call').map((x) => x.approvalReason ?? null)).toEqual(['empty-filter', 'empty-filter', null, null]);
    await h.close();
  });

  it('refuses with APPROVAL_DECLINED when no answer comes within approvalTimeoutMs', async () => {
    const h = await connectInMemory({ approvalTimeoutMs: 1000 }, { elicit: () => new Promise(() => undefined) });
    const r = await h.client.callTool(drop);
    expect(errorCodeOf(r)).toBe('APPROVAL_DECLINED');
    expect(textOf(r)).toMatch(/approvalTimeoutMs=1000/);
    expect(h.audit.records[0]).toMatchObject({ approval: 'timeout' });
    await h.close();
  });
});

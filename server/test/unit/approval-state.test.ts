import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApprovalStates, type ApprovalBinding } from '../../src/approvals/approval-state.ts';
import type { Identity } from '../../src/identity/identity.ts';

const alice: Identity = { subject: 'sub-alice', username: 'alice', clientId: 'agent-1', scopes: ['mcp:read', 'mcp:write'] };
const drop: ApprovalBinding = { tool: 'drop-collection', digest: 'sha256:aaaa', caller: alice };

/** The state with one character of its signed body changed (still valid base64url). */
function tamper(state: string): string {
  const at = state.indexOf('.') + 5;
  return state.slice(0, at) + (state[at] === 'A' ? 'B' : 'A') + state.slice(at + 1);
}

describe('the sealed approval state of the 2026-07-28 round trip', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('verifies once for the exact call it was minted for, and is refused as replayed the second time', async () => {
    const states = new ApprovalStates();
    const state = await states.mint(drop, 60);
    expect(await states.check(state, drop)).toEqual({ ok: true });
    expect(await states.check(state, drop)).toEqual({ ok: false, why: 'replayed' });
  });

  it.each([
    ['other arguments', { ...drop, digest: 'sha256:bbbb' }],
    ['another tool', { ...drop, tool: 'drop-database' }],
    ['another user', { ...drop, caller: { ...alice, subject: 'sub-mallory', username: 'mallory' } }],
    ['the same user through another client', { ...drop, caller: { ...alice, clientId: 'agent-2' } }],
  ])('is refused as a mismatch when it comes back with %s', async (_what, other) => {
    const states = new ApprovalStates();
    const state = await states.mint(drop, 60);
    expect(await states.check(state, other)).toEqual({ ok: false, why: 'mismatch' });
    // A refused state is not spent: the call it names can still use it.
    expect(await states.check(state, drop)).toEqual({ ok: true });
  });

  it('refuses as forged an altered state, a made-up one, and one sealed under another process key', async () => {
    const states = new ApprovalStates();
    const state = await states.mint(drop, 60);
    const elsewhere = await new ApprovalStates().mint(drop, 60);
    // The payload is signed, not secret: the client can read it, never change it.
    const body = JSON.parse(Buffer.from(state.split('.')[1]!, 'base64url').toString()) as { p: Record<string, unknown>; b: string };
    expect(body.p).toMatchObject({ tool: 'drop-collection', digest: 'sha256:aaaa' });
    expect(JSON.stringify(body)).not.toContain('sub-alice');
    const rewritten = `v1.${Buffer.from(JSON.stringify({ ...body, p: { ...body.p, digest: 'sha256:bbbb' } })).toString('base64url')}.${state.split('.')[2]!}`;
    for (const bad of [tamper(state), rewritten, elsewhere, 'v1.e30.AAAA', 'approved', '']) {
      expect(await states.check(bad, drop), bad.slice(0, 20)).toEqual({ ok: false, why: 'forged' });
    }
  });

  it('refuses a state older than its time to live as expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const states = new ApprovalStates();
    const state = await states.mint(drop, 2);
    vi.setSystemTime(Date.now() + 3_500);
    expect(await states.check(state, drop)).toEqual({ ok: false, why: 'expired' });
  });
});

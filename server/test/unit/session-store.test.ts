import { describe, expect, it } from 'vitest';
import type { Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { SessionStore, type Admission } from '../../src/transport/http/session-store.ts';

function fakeSession(id: string, closed: string[] = []) {
  const close = async () => void closed.push(id);
  return { id, transport: { close } as unknown as WebStandardStreamableHTTPServerTransport, server: { close } as unknown as Server };
}

function admitted(a: Admission) {
  if (a.kind !== 'admitted') throw new Error(`expected admission, got ${a.kind}`);
  return a.reservation;
}

/** Opens a session for `caller` the way the router does: admission first, then the session. */
function open(store: SessionStore, id: string, caller: string, closed: string[] = []): void {
  store.add(fakeSession(id, closed), admitted(store.admit(caller)));
}

const limits = (o: Partial<{ max: number; perCaller: number; idleMs: number }> = {}) => ({ max: 100, perCaller: 10, idleMs: 1000, ...o });

describe('HTTP session store', () => {
  it('closes sessions idle longer than sessionIdleMs and keeps active ones', async () => {
    let now = 0;
    const closed: string[] = [];
    const store = new SessionStore(limits(), () => now);
    open(store, 'idle', 'a', closed);
    open(store, 'active', 'b', closed);
    now = 900;
    expect(store.lookup('active', 'b')).not.toBe('not-found');
    now = 1500;
    await store.sweep();
    expect(store.lookup('idle', 'a')).toBe('not-found');
    expect(store.lookup('active', 'b')).not.toBe('not-found');
    expect(closed).toContain('idle');
    await store.closeAll();
  });

  it('returns a session only to the caller that created it', async () => {
    const store = new SessionStore(limits());
    open(store, 's1', 'alice');
    expect(store.lookup('s1', 'mallory')).toBe('wrong-caller');
    expect(store.lookup('s1', 'alice')).toMatchObject({ id: 's1', caller: 'alice' });
    await store.closeAll();
  });

  it('refuses a caller at its quota, with Retry-After until its least recently used session expires, and still admits another caller', async () => {
    let now = 0;
    const store = new SessionStore(limits({ perCaller: 2, idleMs: 60_000 }), () => now);
    open(store, 'a1', 'agent');
    now = 10_000;
    open(store, 'a2', 'agent');
    now = 15_500;
    expect(store.admit('agent')).toEqual({ kind: 'caller-limit', retryAfterSeconds: 45 }); // a1 expires at 60 s
    expect(store.admit('analyst').kind).toBe('admitted');
    await store.closeAll();
  });

  it('keeps the global cap as the last resort, with its own Retry-After', async () => {
    let now = 0;
    const store = new SessionStore(limits({ max: 2, perCaller: 2, idleMs: 60_000 }), () => now);
    open(store, 's1', 'a');
    now = 30_000;
    open(store, 's2', 'b');
    expect(store.admit('c')).toEqual({ kind: 'global-limit', retryAfterSeconds: 30 });
    await store.closeAll();
  });

  it('counts initializes in flight, so parallel initializes cannot overshoot the quota', async () => {
    const store = new SessionStore(limits({ perCaller: 2 }));
    const r1 = admitted(store.admit('agent'));
    admitted(store.admit('agent'));
    expect(store.admit('agent')).toEqual({ kind: 'caller-limit', retryAfterSeconds: 1 });
    r1.release(); // that initialize was refused by the SDK: no session, the place is free again
    r1.release(); // and releasing twice frees it once
    expect(store.countOf('agent')).toBe(1);
    expect(store.admit('agent').kind).toBe('admitted');
    await store.closeAll();
  });

  it('frees the places of expired sessions at admission, without waiting for the sweeper', async () => {
    let now = 0;
    const closed: string[] = [];
    const store = new SessionStore(limits({ perCaller: 1, idleMs: 1000 }), () => now);
    open(store, 'old', 'agent', closed);
    now = 1001;
    expect(store.admit('agent').kind).toBe('admitted');
    expect(closed).toEqual(['old']);
    await store.closeAll();
  });

  it('gives a deleted session its place back', async () => {
    const store = new SessionStore(limits({ perCaller: 1 }));
    open(store, 's1', 'agent');
    expect(store.admit('agent').kind).toBe('caller-limit');
    store.delete('s1');
    expect(store.admit('agent').kind).toBe('admitted');
    await store.closeAll();
  });
});

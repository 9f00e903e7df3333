import { describe, expect, it } from 'vitest';
import type { Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { SessionStore } from '../../src/transport/http/session-store.ts';

function fakeSession(id: string, subject: string, closed: string[]) {
  const close = async () => void closed.push(id);
  return { id, subject, transport: { close } as unknown as WebStandardStreamableHTTPServerTransport, server: { close } as unknown as Server };
}

describe('HTTP session store', () => {
  it('closes sessions idle longer than sessionIdleMs and keeps active ones', async () => {
    let now = 0;
    const closed: string[] = [];
    const store = new SessionStore(10, 1000, () => now);
    store.add(fakeSession('idle', 'a', closed));
    store.add(fakeSession('active', 'b', closed));
    now = 900;
    expect(store.lookup('active', 'b')).not.toBe('not-found');
    now = 1500;
    await store.sweep();
    expect(store.lookup('idle', 'a')).toBe('not-found');
    expect(store.lookup('active', 'b')).not.toBe('not-found');
    expect(closed).toContain('idle');
    await store.closeAll();
  });

  it('returns a session only to the subject that created it', async () => {
    const store = new SessionStore(10, 1000);
    store.add(fakeSession('s1', 'alice', []));
    expect(store.lookup('s1', 'mallory')).toBe('wrong-subject');
    expect(store.lookup('s1', 'alice')).toMatchObject({ id: 's1', subject: 'alice' });
    await store.closeAll();
  });

  it('reports full at maxSessions', async () => {
    const store = new SessionStore(1, 1000);
    expect(store.isFull()).toBe(false);
    store.add(fakeSession('s1', 'a', []));
    expect(store.isFull()).toBe(true);
    await store.closeAll();
  });
});

/**
 * The supervisor's policy (scripts/stack/supervisor.ts) on fake tiers with fake timers: restart alone with a
 * doubling back-off, give up on a crash loop, ignore exits while the stack stops. The real faults are in
 * tests/security/faults.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Service } from '../../scripts/stack/process.ts';
import { backoffMs, superviseStack, type SupervisedStack } from '../../scripts/stack/supervisor.ts';

let nextPid = 100;

/** A tier whose process "dies" when the test calls kill(). */
function fakeService(name: string): Service & { kill(signal?: NodeJS.Signals): void } {
  let end!: (e: { code: number | null; signal: NodeJS.Signals | null }) => void;
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => (end = r));
  return {
    name,
    pid: nextPid++,
    logFile: '/dev/null',
    ended,
    exited: ended.then((e) => e.code),
    stop: async () => end({ code: 0, signal: null }),
    tail: () => `${name} last line`,
    kill: (signal = 'SIGKILL') => end({ code: null, signal }),
  };
}

function fakeStack(names: string[], failRestarts = 0) {
  const services = names.map(fakeService);
  let failures = failRestarts;
  const stack = {
    services,
    stopping: false as boolean,
    restarts: [] as string[],
    async restart(tier: string) {
      stack.restarts.push(tier);
      if (failures-- > 0) throw new Error(`${tier} /healthz not ready after 30 s`);
      const s = fakeService(tier);
      services[services.findIndex((x) => x.name === tier)] = s;
      return s;
    },
  } satisfies SupervisedStack & { restarts: string[] };
  return stack;
}

const current = (stack: ReturnType<typeof fakeStack>, name: string) => stack.services.find((s) => s.name === name)!;

describe('the stack supervisor', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('doubles the back-off from 0.5 s up to 8 s', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffMs(n))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });

  it('restarts only the tier that died, after the back-off, and logs why', async () => {
    const stack = fakeStack(['mcp-ro', 'mcp-rw']);
    const lines: string[] = [];
    const giveUp = vi.fn();
    superviseStack(stack, { log: (l) => lines.push(l), giveUp });
    const rw = current(stack, 'mcp-rw');
    current(stack, 'mcp-ro').kill();
    await vi.advanceTimersByTimeAsync(499);
    expect(stack.restarts).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(stack.restarts).toEqual(['mcp-ro']);
    expect(current(stack, 'mcp-rw')).toBe(rw);
    expect(lines.join('\n')).toContain('mcp-ro killed by SIGKILL; restart 1/5 in 0.5 s');
    expect(lines.join('\n')).toMatch(/mcp-ro restarted: pid \d+/);
    expect(giveUp).not.toHaveBeenCalled();
  });

  it('gives up on a crash loop: the sixth exit within 60 s stops the stack, naming the tier', async () => {
    const stack = fakeStack(['verifier']);
    const giveUp = vi.fn();
    superviseStack(stack, { log: () => undefined, giveUp });
    for (let i = 0; i < 5; i++) {
      current(stack, 'verifier').kill();
      await vi.advanceTimersByTimeAsync(backoffMs(i));
    }
    expect(stack.restarts).toHaveLength(5);
    current(stack, 'verifier').kill();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stack.restarts).toHaveLength(5);
    expect(giveUp).toHaveBeenCalledOnce();
    expect(giveUp.mock.calls[0]![0]).toMatch(/^verifier crash loop: 5 restarts within 60 s/);
  });

  it('forgets restarts older than the window', async () => {
    const stack = fakeStack(['nginx']);
    const giveUp = vi.fn();
    superviseStack(stack, { log: () => undefined, giveUp });
    for (let i = 0; i < 8; i++) {
      current(stack, 'nginx').kill();
      await vi.advanceTimersByTimeAsync(61_000);
    }
    expect(stack.restarts).toHaveLength(8);
    expect(giveUp).not.toHaveBeenCalled();
  });

  it('retries a restart that fails its health check, with the next back-off', async () => {
    const stack = fakeStack(['keycloak'], 1);
    const lines: string[] = [];
    superviseStack(stack, { log: (l) => lines.push(l), giveUp: vi.fn() });
    current(stack, 'keycloak').kill();
    await vi.advanceTimersByTimeAsync(500 + 1000);
    expect(stack.restarts).toEqual(['keycloak', 'keycloak']);
    expect(lines.join('\n')).toContain('keycloak failed to restart (keycloak /healthz not ready after 30 s); restart 2/5 in 1.0 s');
  });

  it('leaves a tier down when it exits because the stack is stopping', async () => {
    const stack = fakeStack(['database']);
    superviseStack(stack, { log: () => undefined, giveUp: vi.fn() });
    stack.stopping = true;
    current(stack, 'database').kill('SIGTERM');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stack.restarts).toEqual([]);
  });
});

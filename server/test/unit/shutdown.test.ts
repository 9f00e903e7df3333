/**
 * The shutdown steps are bounded (server/src/lifecycle/shutdown.ts): a step that hangs, rejects or throws is
 * reported and left behind, and the next one still runs. The processes themselves are stopped for real in
 * tests/integration/shutdown-tracing.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runShutdown, settleWithin } from '../../src/lifecycle/shutdown.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('settleWithin', () => {
  it('is done when the work resolves in time', async () => {
    expect(await settleWithin(async () => 'x', 1_000)).toBe('done');
  });

  it('is failed, never a rejection, when the work rejects or throws synchronously', async () => {
    expect(await settleWithin(() => Promise.reject(new Error('ECONNREFUSED')), 1_000)).toBe('failed');
    expect(
      await settleWithin(() => {
        throw new Error('boom');
      }, 1_000),
    ).toBe('failed');
  });

  it('is timed-out once the budget is spent by work that never settles (a collector that never answers)', async () => {
    vi.useFakeTimers();
    const outcome = settleWithin(() => new Promise(() => undefined), 2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await outcome).toBe('timed-out');
  });
});

describe('runShutdown', () => {
  it('runs every step in order past one that hangs, and names each step that did not finish, nothing more', async () => {
    vi.useFakeTimers();
    const ran: string[] = [];
    const lines: string[] = [];
    const done = runShutdown(
      {
        transport: () => settleWithin(() => ran.push('transport'), 1_000),
        database: () => settleWithin(() => (ran.push('database'), new Promise(() => undefined)), 1_000),
        tracing: () => settleWithin(() => (ran.push('tracing'), Promise.reject(new Error('http://user:pw@collector'))), 1_000),
      },
      (l) => lines.push(l),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    await done;
    expect(ran).toEqual(['transport', 'database', 'tracing']);
    expect(lines).toEqual(['shutdown: database timed-out; going on', 'shutdown: tracing failed; going on']);
  });
});

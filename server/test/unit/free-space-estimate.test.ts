/**
 * The audit log's free-space check before each call (audit-log.ts ready()) reads an estimate instead of calling
 * statfs every time (issue #15). What must not change: near the reserve every call asks the filesystem, so a disk
 * filled by someone else refuses the very next call (the real full-disk case is tests/security/faults-more.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { EXACT_BELOW_BYTES, FreeSpaceEstimate, RECHECK_BYTES, RECHECK_MS } from '../../src/audit/free-space.ts';

const PLENTY = 10 * EXACT_BELOW_BYTES;

/** A filesystem whose free bytes the test sets, counting how often it is asked; a clock the test moves. */
function fixture(free: number) {
  const fs = { free, asked: 0 };
  const clock = { ms: 0 };
  const estimate = new FreeSpaceEstimate(
    () => {
      fs.asked++;
      return fs.free;
    },
    () => clock.ms,
  );
  return { fs, clock, estimate };
}

describe('the free-space estimate under the audit log', () => {
  it('asks the filesystem on first use, then counts its own records down without asking again', () => {
    const { fs, estimate } = fixture(PLENTY);
    expect(estimate.bytesFree()).toBe(PLENTY);
    estimate.wrote(500);
    expect(estimate.bytesFree()).toBe(PLENTY - 500);
    expect(fs.asked).toBe(1);
  });

  it('asks on every call once fewer bytes than the exact threshold are free, so a disk filled by another writer is seen at once', () => {
    const { fs, estimate } = fixture(EXACT_BELOW_BYTES - 1);
    estimate.bytesFree();
    fs.free = 0;
    expect(estimate.bytesFree()).toBe(0);
    fs.free = EXACT_BELOW_BYTES - 1; // space back: seen at once too
    expect(estimate.bytesFree()).toBe(EXACT_BELOW_BYTES - 1);
    expect(fs.asked).toBe(3);
  });

  it('asks again once its own records since the last answer reach the byte bound', () => {
    const { fs, estimate } = fixture(PLENTY);
    estimate.bytesFree();
    estimate.wrote(RECHECK_BYTES - 1);
    estimate.bytesFree();
    expect(fs.asked).toBe(1);
    estimate.wrote(1);
    fs.free = 0;
    expect(estimate.bytesFree()).toBe(0);
    expect(fs.asked).toBe(2);
  });

  it('asks again once the last answer is older than the time bound', () => {
    const { fs, clock, estimate } = fixture(PLENTY);
    estimate.bytesFree();
    fs.free = 0;
    clock.ms = RECHECK_MS - 1;
    expect(estimate.bytesFree()).toBe(PLENTY);
    clock.ms = RECHECK_MS;
    expect(estimate.bytesFree()).toBe(0);
  });

  it('asks again after it is invalidated (another file was opened, or a write failed)', () => {
    const { fs, estimate } = fixture(PLENTY);
    estimate.bytesFree();
    fs.free = 1234;
    estimate.invalidate();
    expect(estimate.bytesFree()).toBe(1234);
  });

  it('lets a failing filesystem query throw to its caller, which refuses the call', () => {
    const estimate = new FreeSpaceEstimate(() => {
      throw Object.assign(new Error('gone'), { code: 'ENOENT' });
    });
    expect(() => estimate.bytesFree()).toThrow('gone');
  });
});

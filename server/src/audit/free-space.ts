/** Our own bytes written after which the filesystem is asked again (about 100 records). */
export const RECHECK_BYTES = 64 * 1024;
/** Age after which the filesystem is asked again: another writer's bytes are noticed within this much time. */
export const RECHECK_MS = 100;
/**
 * Below this many free bytes every call asks the filesystem (statfs) before it runs, as it did before the
 * estimate: near the reserve, the check is exact. Above it, another writer would have to fill this much
 * within RECHECK_MS for a call to pass the check on a stale figure, and such a call is still refused when
 * its record cannot be written (audit-log.ts: write() fails closed).
 */
export const EXACT_BELOW_BYTES = 16 * 1024 * 1024;

/**
 * Free space under the audit log, known without a syscall per call (issue #15): statfs once, then count
 * down by the bytes of our own records; statfs again after RECHECK_BYTES of them, after RECHECK_MS, after
 * a failed write or a reopen (`invalidate`), and on every call once fewer than EXACT_BELOW_BYTES are free.
 */
export class FreeSpaceEstimate {
  #free = 0;
  #written = 0;
  #measuredAt = Number.NEGATIVE_INFINITY;
  readonly #measure: () => number;
  readonly #now: () => number;

  /** `measure` returns the bytes free to us now (statfs); `now` is a clock in ms. */
  constructor(measure: () => number, now: () => number = () => performance.now()) {
    this.#measure = measure;
    this.#now = now;
  }

  /** Bytes free: the last measurement less what we wrote since, or a new measurement when that is due. */
  bytesFree(): number {
    const now = this.#now();
    if (this.#free < EXACT_BELOW_BYTES || this.#written >= RECHECK_BYTES || now - this.#measuredAt >= RECHECK_MS) {
      this.#free = this.#measure();
      this.#written = 0;
      this.#measuredAt = now;
    }
    return this.#free;
  }

  /** Our own record reached the file. */
  wrote(bytes: number): void {
    this.#free -= bytes;
    this.#written += bytes;
  }

  /** The next bytesFree() asks the filesystem (another file was opened, or a write failed). */
  invalidate(): void {
    this.#free = 0;
  }
}

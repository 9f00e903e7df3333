import { createHash } from 'node:crypto';
import { fstatSync, readSync } from 'node:fs';

/**
 * Hash chain over audit lines: every record carries `prev`, the SHA-256 of the exact bytes of the line
 * written before it (newline excluded). Changing, removing or inserting a line breaks the link after it,
 * which `npm run audit:verify` reports (verify-chain.ts). The newest line is covered by the next one; to
 * protect it too, ship the chain's head (the digest the verify command prints) somewhere else.
 */

/** The `prev` of a chain's first record: nothing came before it. */
export const GENESIS = `sha256:${'0'.repeat(64)}`;

/** Room `,"prev":"sha256:<64 hex>"` takes in a line: kept free when a record is bounded. */
export const PREV_FIELD_BYTES = ',"prev":""'.length + GENESIS.length;

export function lineDigest(line: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(line).digest('hex')}`;
}

/** The window read from a file's end to find its last line: a few bounded records. */
const TAIL_BYTES = 16 * 1024;

/**
 * The digest of the last line of an open file (the chain continues from it after a restart), or null for
 * an empty file. Reads only the tail, once, when the file is opened — never per record. A last line longer
 * than the window (not one of ours) is read whole.
 */
export function lastLineDigest(fd: number): string | null {
  const size = fstatSync(fd).size;
  if (size === 0) return null;
  let window = Math.min(size, TAIL_BYTES);
  for (;;) {
    const buf = Buffer.alloc(window);
    const n = readSync(fd, buf, 0, window, size - window);
    let end = n;
    while (end > 0 && buf[end - 1] === 0x0a) end--; // the trailing newline(s)
    const start = buf.lastIndexOf(0x0a, end - 1) + 1;
    if (start > 0 || window === size) return end === 0 ? null : lineDigest(buf.subarray(start, end));
    window = Math.min(size, window * 4);
  }
}

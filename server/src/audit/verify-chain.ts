import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { GENESIS, lineDigest } from './chain.ts';

export type ChainReport =
  | { ok: true; records: number; files: number; start: 'genesis' | 'continued' | 'after-unchained'; unchained: number; head: string | null }
  | { ok: false; file: string; line: number; reason: string };

/**
 * Walks audit logs (either tier's: both write `prev`, chain.ts) in the order given — rotated files oldest
 * first — and returns the first broken link: a line that is not a JSON record, has no `prev`, or whose
 * `prev` is not the digest of the line before it (in the same file, or the last line of the previous file).
 * The very first line may continue a chain whose earlier files were not given. Records written before the
 * chain existed (no `prev`: an older server's, audit logs accumulate) may only come before the first chained
 * record — which links to the last of them — and are counted as unprotected. Streams: logs of any size.
 */
export async function verifyChain(files: readonly string[]): Promise<ChainReport> {
  let expected: string | null = null;
  let previous = '';
  let records = 0;
  let start: 'genesis' | 'continued' | 'after-unchained' = 'genesis';
  let unchained = 0;
  let chained = false;
  for (const file of files) {
    let n = 0;
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const text of lines) {
      n++;
      const broken = (reason: string): ChainReport => (lines.close(), { ok: false, file, line: n, reason });
      let prev: unknown;
      try {
        prev = (JSON.parse(text) as { prev?: unknown }).prev;
      } catch {
        return broken(text === '' ? 'a blank line' : 'not a JSON record');
      }
      if (typeof prev !== 'string') {
        if (chained) return broken('no `prev` field: not a chained audit record');
        unchained++; // from before the chain began
        expected = lineDigest(text);
        continue;
      }
      const linked = prev === expected;
      if (!chained) {
        chained = true;
        start = unchained > 0 ? 'after-unchained' : prev === GENESIS ? 'genesis' : 'continued';
      }
      // Nothing to check on the very first line of a chain, unless unchained records came before it.
      if (!linked && (records > 0 || unchained > 0)) {
        const before = n === 1 ? `the last line of ${previous}` : `line ${n - 1}`;
        return broken(`prev does not match the digest of ${before}: that line was changed, or lines were removed or inserted before this one`);
      }
      expected = lineDigest(text);
      records++;
    }
    previous = file;
  }
  return { ok: true, records, files: files.length, start, unchained, head: expected };
}

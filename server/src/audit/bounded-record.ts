/** The longest value (UTF-16 code units) an audit field keeps; a valid namespace (64 + 1 + 255) fits. */
export const FIELD_MAX_CHARS = 512;
/** No audit line exceeds this many UTF-8 bytes (newline excluded), whatever a caller sent. */
export const RECORD_MAX_BYTES = 4096;

/** A record after bounding: `truncated` names each cut field with its original length in characters. */
export type Bounded<T> = T & { truncated?: Record<string, number> };

/**
 * Caps every top-level string field of an audit record, then the whole line: a 900,000-character
 * collection name once made a 900 kB audit line. Cut fields are listed in `truncated` (field → original
 * length), so a reader knows the value is a prefix. JSON escaping can still grow a line (a control
 * character is six bytes), so the longest string is halved until the line fits RECORD_MAX_BYTES (or `maxBytes`:
 * the audit log keeps room for the hash-chain link it appends, chain.ts).
 */
export function boundRecord<T extends object>(record: T, maxBytes: number = RECORD_MAX_BYTES): Bounded<T> {
  const out: Record<string, unknown> = { ...(record as Record<string, unknown>) };
  const truncated: Record<string, number> = {};
  const cut = (key: string, value: string, length: number) => {
    out[key] = prefix(value, length);
    truncated[key] ??= value.length;
    out.truncated = truncated;
  };
  for (const [key, value] of Object.entries(out)) {
    if (typeof value === 'string' && value.length > FIELD_MAX_CHARS) cut(key, value, FIELD_MAX_CHARS);
  }
  while (Buffer.byteLength(JSON.stringify(out)) > maxBytes) {
    const longest = longestString(out);
    if (!longest) break; // only fixed-size fields left: cannot happen for AuditRecord's shape
    cut(longest[0], longest[1], Math.floor(longest[1].length / 2));
  }
  return out as Bounded<T>;
}

/** A prefix that never ends in half a surrogate pair (which JSON would write as a lone \udXXX escape). */
function prefix(s: string, length: number): string {
  const p = s.slice(0, length);
  const last = p.charCodeAt(p.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? p.slice(0, -1) : p;
}

function longestString(o: Record<string, unknown>): [string, string] | undefined {
  let best: [string, string] | undefined;
  for (const [k, v] of Object.entries(o)) if (typeof v === 'string' && v.length > 0 && (!best || v.length > best[1].length)) best = [k, v];
  return best;
}

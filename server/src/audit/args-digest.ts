import { createHash } from 'node:crypto';

const VALUE = 0;
const TEXT = 1;
const LEAVE = 2;

/**
 * Canonical JSON (object keys sorted at every depth, otherwise what JSON.stringify writes), produced
 * without recursion: an explicit work stack walks the value, so a 3,000-deep filter costs memory in
 * proportion to its size, never a call-stack frame per level ("Maximum call stack size exceeded" took
 * the audit record with it). A cycle (impossible in parsed JSON) is written as the string "[Circular]".
 */
export function writeCanonicalJson(root: unknown, emit: (chunk: string) => void): void {
  // Two parallel stacks (what, and how to treat it) instead of an object per step: this runs on every call.
  const items: unknown[] = [root];
  const kinds: number[] = [VALUE];
  const onPath = new Set<object>();
  while (items.length > 0) {
    const item = items.pop();
    const kind = kinds.pop();
    if (kind === TEXT) {
      emit(item as string);
      continue;
    }
    if (kind === LEAVE) {
      onPath.delete(item as object);
      continue;
    }
    const v = jsonValueOf(item);
    if (v === null || typeof v !== 'object') {
      emit(primitive(v));
      continue;
    }
    if (onPath.has(v)) {
      emit('"[Circular]"');
      continue;
    }
    onPath.add(v);
    items.push(v);
    kinds.push(LEAVE);
    if (Array.isArray(v)) {
      emit('[');
      items.push(']');
      kinds.push(TEXT);
      for (let i = v.length - 1; i >= 0; i--) {
        items.push(v[i]);
        kinds.push(VALUE);
        if (i > 0) {
          items.push(',');
          kinds.push(TEXT);
        }
      }
      continue;
    }
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => !omitted(jsonValueOf(obj[k])));
    if (keys.length > 1) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    emit('{');
    items.push('}');
    kinds.push(TEXT);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      items.push(obj[key], `${i > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      kinds.push(VALUE, TEXT);
    }
  }
}

/** JSON.stringify calls toJSON first (Date, ObjectId); so do we. */
function jsonValueOf(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') return (v as { toJSON(): unknown }).toJSON();
  return v;
}

/** Object members JSON.stringify leaves out. */
function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

function primitive(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (omitted(v)) return 'null'; // as JSON.stringify does inside arrays
  return JSON.stringify(v) ?? 'null';
}

/** Canonical JSON as one string (tests, small values). */
export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  writeCanonicalJson(value, (c) => parts.push(c));
  return parts.join('');
}

/**
 * SHA-256 of the canonical JSON of a tool call's arguments, whatever their shape (object, string, array):
 * equal arguments hash the same regardless of key order, different arguments differently. The text is
 * streamed into the hash in chunks, so even a body-limit-sized argument is never held twice.
 */
export function argsDigest(args: unknown): string {
  const hash = createHash('sha256');
  let pending = ''; // appends build a rope; it is flattened once per 64 KiB handed to the hash
  writeCanonicalJson(args ?? {}, (chunk) => {
    pending += chunk;
    if (pending.length >= 64 * 1024) {
      hash.update(pending);
      pending = '';
    }
  });
  return 'sha256:' + hash.update(pending).digest('hex');
}

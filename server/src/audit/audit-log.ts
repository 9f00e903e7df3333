import { closeSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../errors.ts';

/**
 * One JSON line per tool call (ok, refused or failed, known tool or not) and per refused HTTP request.
 * Records carry who/what/outcome and a digest of the arguments — never argument values, tokens,
 * passwords or connection strings, so the log can be shipped anywhere.
 */
export interface AuditRecord {
  time: string;
  event: 'tool_call' | 'http_refused';
  requestId: string | null;
  sessionId: string | null;
  subject: string | null;
  username: string | null;
  agent: string | null;
  tool?: string;
  operationType?: string | null;
  namespace?: string | null;
  argsDigest?: string;
  outcome: 'ok' | 'refused' | 'error';
  errorCode: ErrorCode | null;
  documents?: number | null;
  durationMs?: number;
  httpStatus?: number;
  method?: string;
  path?: string;
}

export interface AuditSink {
  write(record: AuditRecord): void;
}

/** `stderr` or an absolute/relative file path (appended; created with mode 0600). */
export function createAuditSink(destination: string): AuditSink {
  if (destination === 'stderr') return { write: (r) => process.stderr.write(JSON.stringify(r) + '\n') };
  return fileSink(destination);
}

/**
 * Still one synchronous O_APPEND write per record (in the kernel before the response leaves), but on a
 * descriptor kept open: appendFileSync opened and closed the file on every tools/call (issue #7). A stat
 * per write keeps rotation working: when the path no longer names our file (moved, deleted), reopen it.
 */
function fileSink(path: string): AuditSink {
  let fd = -1;
  let ino = -1;
  const open = () => {
    if (fd >= 0) closeSync(fd);
    fd = openSync(path, 'a', 0o600);
    ino = fstatSync(fd).ino;
  };
  return {
    write(r) {
      if (fd < 0 || statSync(path, { throwIfNoEntry: false })?.ino !== ino) open();
      writeSync(fd, JSON.stringify(r) + '\n');
    },
  };
}

/** Collects records in memory (tests). */
export function memoryAuditSink(): AuditSink & { records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  return { records, write: (r) => void records.push(structuredClone(r)) };
}

/** JSON with object keys sorted at every depth, so equal arguments always hash the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }) ?? 'null';
}

export function argsDigest(args: unknown): string {
  return 'sha256:' + createHash('sha256').update(canonicalJson(args ?? {})).digest('hex');
}

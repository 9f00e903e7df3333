import { closeSync, fchmodSync, fstatSync, openSync, statSync, writeSync } from 'node:fs';
import type { ErrorCode } from '../errors.ts';
import { boundRecord, type Bounded } from './bounded-record.ts';

/**
 * One JSON line per tools/call attempt (ok, refused or failed, known tool or not, well-formed or not) and
 * per refused HTTP request. Records carry who/what/outcome and a digest of the arguments — never argument
 * values, tokens, passwords or connection strings, so the log can be shipped anywhere. Every record is
 * bounded (boundRecord) before it is written.
 */
export interface AuditRecord {
  time: string;
  event: 'tool_call' | 'http_refused';
  /** nginx's `$request_id` (X-Request-Id): the same value is in the verifier's record and the edge's access log. */
  requestId: string | null;
  /** The verifier's token id (X-Auth-Token-Id: the jti, or a SHA-256 prefix of the token); also in its record. */
  tokenId?: string | null;
  sessionId: string | null;
  subject: string | null;
  username: string | null;
  agent: string | null;
  /** The tool name as sent (null when the call named none). */
  tool?: string | null;
  operationType?: string | null;
  namespace?: string | null;
  argsDigest?: string;
  outcome: 'ok' | 'refused' | 'error';
  errorCode: ErrorCode | null;
  /** The JSON-RPC error code when the protocol layer answered the call with an error (e.g. -32602). */
  rpcCode?: number;
  documents?: number | null;
  durationMs?: number;
  httpStatus?: number;
  method?: string;
  path?: string;
}

export interface AuditSink {
  write(record: AuditRecord): void;
}

const line = (r: AuditRecord): string => JSON.stringify(boundRecord(r)) + '\n';

/** `stderr` or an absolute/relative file path (appended; owner-only, mode 0600). */
export function createAuditSink(destination: string): AuditSink {
  if (destination === 'stderr') return { write: (r) => process.stderr.write(line(r)) };
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
    fchmodSync(fd, 0o600); // the mode above applies only when the file is created; an older log is tightened too
    ino = fstatSync(fd).ino;
  };
  return {
    write(r) {
      if (fd < 0 || statSync(path, { throwIfNoEntry: false })?.ino !== ino) open();
      writeSync(fd, line(r));
    },
  };
}

/** Collects records in memory, bounded exactly as the file sink writes them (tests). */
export function memoryAuditSink(): AuditSink & { records: Bounded<AuditRecord>[] } {
  const records: Bounded<AuditRecord>[] = [];
  return { records, write: (r) => void records.push(structuredClone(boundRecord(r))) };
}

import { closeSync, fchmodSync, fstatSync, ftruncateSync, openSync, statfsSync, statSync, writeSync } from 'node:fs';
import { ToolError, type ErrorCode } from '../errors.ts';
import { boundRecord, RECORD_MAX_BYTES, type Bounded } from './bounded-record.ts';
import { GENESIS, lastLineDigest, lineDigest, PREV_FIELD_BYTES } from './chain.ts';
import { FreeSpaceEstimate } from './free-space.ts';

/**
 * One JSON line per tools/call attempt (ok, refused or failed, known tool or not, well-formed or not) and
 * per refused HTTP request. Records carry who/what/outcome and a digest of the arguments — never argument
 * values, tokens, passwords or connection strings, so the log can be shipped anywhere. Every record is
 * bounded (boundRecord) before it is written.
 */
export interface AuditRecord {
  time: string;
  /**
   * resource_read, completion and prompt_get: the other requests that name a namespace (server/src/resources/*).
   * tool_call_started: a write admitted and about to run, on record before it can touch the database — the
   * tool_call record (one per attempt) follows when it ends, unless the process dies first.
   */
  event: 'tool_call' | 'tool_call_started' | 'http_refused' | 'resource_read' | 'completion' | 'prompt_get';
  /** nginx's `$request_id` (X-Request-Id): the same value is in the verifier's record and the edge's access log. */
  requestId: string | null;
  /** The verifier's token id (X-Auth-Token-Id: the jti, or a SHA-256 prefix of the token); also in its record. */
  tokenId?: string | null;
  sessionId: string | null;
  subject: string | null;
  username: string | null;
  agent: string | null;
  /** The resource URI read, or the completion/prompt reference (resource_read, completion, prompt_get). */
  resource?: string | null;
  /** The tool name as sent (null when the call named none). */
  tool?: string | null;
  operationType?: string | null;
  namespace?: string | null;
  argsDigest?: string;
  outcome: 'ok' | 'refused' | 'error' | 'started';
  errorCode: ErrorCode | null;
  /** The JSON-RPC error code when the protocol layer answered the call with an error (e.g. -32602). */
  rpcCode?: number;
  documents?: number | null;
  /** The policy rule that decided (server/src/policy/*): the permit that allowed the call, or the rule that refused it (POLICY_DENIED). */
  policyRule?: string | null;
  /** Set only when the call needed the user's approval (server/src/approvals/*): what became of it, and why it was asked. */
  approval?: 'requested' | 'approved' | 'declined' | 'cancelled' | 'timeout' | 'mismatch' | 'forged' | 'replayed' | 'unavailable';
  approvalReason?: 'drop' | 'empty-filter' | 'over-threshold' | 'policy';
  durationMs?: number;
  httpStatus?: number;
  method?: string;
  path?: string;
}

export interface AuditSink {
  /**
   * Throws ToolError AUDIT_UNAVAILABLE when the record of something that ran (a call that reached the
   * database or a tool) cannot be written: its result must not leave unaudited. Records of refusals
   * that ran nothing are reported on stderr when lost, never thrown (a full disk must not turn every
   * refusal into a 500).
   */
  write(record: AuditRecord): void;
  /** Throws ToolError AUDIT_UNAVAILABLE when a record could not be written now: checked before a call runs. */
  ready?(): void;
}

/** Room kept free for the records of calls in flight: 16 records at the 4 KiB line bound. */
export const AUDIT_RESERVE_BYTES = 64 * 1024;

const unavailable = () => new ToolError('AUDIT_UNAVAILABLE', 'the audit log cannot be written; the call was not run (or its result withheld)');

/** A record whose loss hides nothing that ran: a refusal, a call refused for this very reason, a protocol-layer answer. */
const ranNothing = (r: AuditRecord) => r.outcome === 'refused' || r.errorCode === 'AUDIT_UNAVAILABLE' || r.rpcCode !== undefined;

/**
 * One line of the chain (chain.ts): the bounded record, then `prev`, the digest of the line before it. The
 * record is bounded to leave room for `prev`, so a chained line still fits RECORD_MAX_BYTES.
 */
const chainedLine = (r: AuditRecord, prev: string): string => JSON.stringify({ ...boundRecord(r, RECORD_MAX_BYTES - PREV_FIELD_BYTES), prev });

/** `stderr` or an absolute/relative file path (appended; owner-only, mode 0600). */
export function createAuditSink(destination: string): AuditSink {
  if (destination === 'stderr') {
    let prev = GENESIS; // stderr has no past to read: each process starts a chain of its own
    return {
      write(r) {
        const text = chainedLine(r, prev);
        process.stderr.write(text + '\n');
        prev = lineDigest(text);
      },
    };
  }
  return fileSink(destination);
}

/**
 * Still one synchronous O_APPEND write per record (in the kernel before the response leaves), but on a
 * descriptor kept open: appendFileSync opened and closed the file on every tools/call (issue #7). A stat
 * per write keeps rotation working: when the path no longer names our file (moved, deleted), reopen it.
 * The hash chain (chain.ts) survives both: at open, a file that has lines continues from its last one (a
 * restart); an empty one continues from the last line this process wrote (a rotation: the new file's first
 * record links to the old file's last). Only the open reads the file; a record costs one SHA-256, no I/O.
 * The free space checked before each call is an estimate kept without a syscall per call (free-space.ts):
 * exact near the reserve, asked again after a reopen, a failed write, 64 KiB of records or 100 ms.
 */
function fileSink(path: string): AuditSink {
  let fd = -1;
  let ino = -1;
  let prev = GENESIS;
  let failing = false;
  let lost = 0;
  // statfs of the file itself: the filesystem that holds it, even when the file is a mount of its own. The path is
  // looked at first (a rotation that left no file there: opening it creates the new one, as the next write would).
  const space = new FreeSpaceEstimate(() => {
    current();
    const fs = statfsSync(path);
    return fs.bavail * fs.bsize;
  });
  const open = () => {
    if (fd >= 0) closeSync(fd);
    fd = -1;
    const next = openSync(path, 'a+', 0o600); // a+: appends only, and lets the open read the last line (chain.ts)
    fchmodSync(next, 0o600); // the mode above applies only when the file is created; an older log is tightened too
    ino = fstatSync(next).ino;
    prev = lastLineDigest(next) ?? prev;
    fd = next;
    space.invalidate(); // another file, maybe on another filesystem
  };
  const current = () => {
    if (fd < 0 || statSync(path, { throwIfNoEntry: false })?.ino !== ino) open();
  };
  // Once per change of state, so a full disk under load does not also flood stderr.
  const report = (ok: boolean, why: string) => {
    if (failing === !ok) return;
    failing = !ok;
    process.stderr.write(
      ok
        ? `audit: the audit log is writable again (${lost} records of refused calls lost meanwhile)\n`
        : `audit: the audit log cannot be written (${why}): calls fail closed with AUDIT_UNAVAILABLE\n`,
    );
    if (ok) lost = 0;
  };
  // Opened at start when possible, so the chain links to this file's last line even if the path names another
  // file by the time the first record is written; if it cannot be opened now, the first record reports it.
  try {
    open();
  } catch {
    /* ready() and write() retry, and fail closed */
  }
  return {
    write(r) {
      try {
        current();
        const chained = chainedLine(r, prev);
        const text = chained + '\n';
        const n = writeSync(fd, text);
        if (n !== Buffer.byteLength(text)) {
          // A short write (the last bytes of a full disk) is a failed write: cut the half line off again, so the
          // next record starts on a line of its own (this process is the file's only writer).
          try {
            ftruncateSync(fd, fstatSync(fd).size - n);
          } catch {
            /* the record is refused either way */
          }
          throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
        }
        prev = lineDigest(chained); // only a line that is in the file is linked to
        space.wrote(n);
        // Only a call that ran says the log is usable again: a refusal's record may still fit in the last page.
        if (!ranNothing(r)) report(true, '');
      } catch (e) {
        space.invalidate();
        report(false, String((e as NodeJS.ErrnoException).code ?? 'error'));
        if (!ranNothing(r)) throw unavailable();
        lost++; // counted, not logged one by one: a flood of refused calls on a full disk must not flood its log too
      }
    },
    ready() {
      let free: number;
      try {
        if (fd < 0) current(); // not open (it failed before): a call runs only once its record has a file
        free = space.bytesFree();
      } catch (e) {
        report(false, String((e as NodeJS.ErrnoException).code ?? 'error'));
        throw unavailable();
      }
      if (free < AUDIT_RESERVE_BYTES) {
        report(false, `${free} bytes free, ${AUDIT_RESERVE_BYTES} kept in reserve`);
        throw unavailable();
      }
    },
  };
}

/** Collects records in memory, bounded exactly as the file sink writes them (tests). @internal */
export function memoryAuditSink(): AuditSink & { records: Bounded<AuditRecord>[] } {
  const records: Bounded<AuditRecord>[] = [];
  return { records, write: (r) => void records.push(structuredClone(boundRecord(r))) };
}

/**
 * One JSON line per decision, to stderr or a file. The token itself is never written: at most the first
 * 12 hex characters of its SHA-256 and its jti, enough to correlate with Keycloak's and the server's logs.
 * `requestId` (nginx's $request_id) and `tokenId` (what X-Auth-Token-Id carries) are the join keys: the MCP
 * server's record of the same request carries both. Every string field is capped (FIELD_MAX_CHARS, cut
 * fields listed in `truncated` with their original length), so no request makes an unbounded line.
 *
 * Lines are hash-chained as the MCP server's are (server/src/audit/chain.ts): `prev` is the SHA-256 of the
 * line before, so `npm run audit:verify` finds a changed, removed or inserted line. The chain continues
 * across restarts (the file's last line is read once, at open) and rotation (a moved file is reopened and
 * the new one's first line links to the old one's last).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import type { RefusalCode } from './errors.ts';

export interface AuditEvent {
  outcome: 'accept' | 'refuse';
  code: RefusalCode | 'ok';
  route: string | undefined;
  /** nginx's $request_id (X-Request-Id), also sent to the MCP upstream. */
  requestId?: string | undefined;
  method?: string | undefined;
  path?: string | undefined;
  sub?: string | undefined;
  azp?: string | undefined;
  jti?: string | undefined;
  /** The id sent to the MCP tier as X-Auth-Token-Id: the jti, or `sha256:` + 16 hex of the token. */
  tokenId?: string | undefined;
  tokenSha256?: string | undefined;
  cached?: boolean;
  /** SEP-2243 Mcp-Name as the client sent it (a plain identifier, else `[invalid]`): what the pre-filter judged. */
  mcpName?: string | undefined;
}

export type AuditSink = (e: AuditEvent) => void;

/** `stderr`, or an append-only file; `write` lets tests capture lines. Throws if the file cannot be opened. */
export function createAuditSink(target: string, write?: (line: string) => void): AuditSink {
  const file = write || target === 'stderr' ? null : fileAppender(target);
  const out = write ?? batched(file ? file.append : (c: string) => void process.stderr.write(c));
  let prev = file?.lastDigest ?? GENESIS;
  return (e) => {
    // Linked when the line is made, not when it is flushed: the batch keeps the order the chain has.
    const line = JSON.stringify({ ts: new Date().toISOString(), svc: 'verifier', ...bounded(e), prev });
    prev = digestOf(line);
    out(line + '\n');
  };
}

/** The `prev` of a chain's first line; the same value the MCP server's chain starts from. */
export const GENESIS = `sha256:${'0'.repeat(64)}`;

const digestOf = (line: string | Uint8Array): string => `sha256:${createHash('sha256').update(line).digest('hex')}`;

/** A verifier line is at most ~3 KiB (every field capped): the last one is within this much of the end. */
const TAIL_WINDOW = 64 * 1024;

/** Digest of the last line of an open file, or null for an empty one. Once, at open. */
function tailDigest(fd: number): string | null {
  const size = fstatSync(fd).size;
  const tail = Buffer.alloc(Math.min(size, TAIL_WINDOW));
  readSync(fd, tail, 0, tail.length, size - tail.length);
  const lines = tail
    .toString('latin1')
    .split('\n')
    .filter((l) => l !== '');
  const last = lines.at(-1);
  return last === undefined ? null : digestOf(Buffer.from(last, 'latin1'));
}

/** The longest value a field keeps: an X-Original-URI may be as long as nginx's header buffers allow. */
export const FIELD_MAX_CHARS = 256;

function bounded(e: AuditEvent): AuditEvent & { truncated?: Record<string, number> } {
  const out: Record<string, unknown> = { ...e };
  const truncated: Record<string, number> = {};
  for (const [k, v] of Object.entries(e)) {
    if (typeof v !== 'string' || v.length <= FIELD_MAX_CHARS) continue;
    out[k] = v.slice(0, FIELD_MAX_CHARS);
    truncated[k] = v.length;
  }
  return Object.keys(truncated).length > 0 ? { ...(out as unknown as AuditEvent), truncated } : e;
}

/**
 * Lines of one event-loop turn leave in one write instead of one syscall each. What is pending when the
 * process exits (SIGTERM, a crash) is written synchronously by the 'exit' handler, so no decision goes unlogged.
 */
function batched(flush: (chunk: string) => void): (line: string) => void {
  let pending = '';
  let scheduled = false;
  const drain = (): void => {
    scheduled = false;
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    flush(chunk);
  };
  process.on('exit', drain);
  return (line) => {
    pending += line;
    if (!scheduled) {
      scheduled = true;
      setImmediate(drain);
    }
  };
}

/**
 * Synchronous appends to a regular file: ordered, and complete when the write returns. One stat per batch
 * (not per line) notices rotation: when the path names another file, the new one is opened.
 */
function fileAppender(path: string): { append: (chunk: string) => void; lastDigest: string | null } {
  let fd = openSync(path, 'a+', 0o600); // a+: appends only, and lets the open read the last line
  let ino = fstatSync(fd).ino;
  const lastDigest = tailDigest(fd);
  const reopen = (): void => {
    if (statSync(path, { throwIfNoEntry: false })?.ino === ino) return;
    const next = openSync(path, 'a', 0o600);
    closeSync(fd);
    fd = next;
    ino = fstatSync(fd).ino;
  };
  const append = (chunk: string): void => {
    try {
      reopen();
      const b = Buffer.from(chunk);
      for (let off = 0; off < b.length; ) off += writeSync(fd, b, off);
    } catch (err) {
      process.stderr.write(`verifier: audit log ${path}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
  return { append, lastDigest };
}

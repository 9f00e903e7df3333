/**
 * One JSON line per decision, to stderr or a file. The token itself is never written: at most the first
 * 12 hex characters of its SHA-256 and its jti, enough to correlate with Keycloak's and the server's logs.
 * `requestId` (nginx's $request_id) and `tokenId` (what X-Auth-Token-Id carries) are the join keys: the MCP
 * server's record of the same request carries both. Every string field is capped (FIELD_MAX_CHARS, cut
 * fields listed in `truncated` with their original length), so no request makes an unbounded line.
 */
import { openSync, writeSync } from 'node:fs';
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
}

export type AuditSink = (e: AuditEvent) => void;

/** `stderr`, or an append-only file; `write` lets tests capture lines. Throws if the file cannot be opened. */
export function createAuditSink(target: string, write?: (line: string) => void): AuditSink {
  const out = write ?? batched(target === 'stderr' ? (c: string) => void process.stderr.write(c) : fileAppender(target));
  return (e) => out(JSON.stringify({ ts: new Date().toISOString(), svc: 'verifier', ...bounded(e) }) + '\n');
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

/** Synchronous appends to a regular file: ordered, and complete when the write returns. */
function fileAppender(path: string): (chunk: string) => void {
  const fd = openSync(path, 'a', 0o600);
  return (chunk) => {
    try {
      const b = Buffer.from(chunk);
      for (let off = 0; off < b.length; ) off += writeSync(fd, b, off);
    } catch (err) {
      process.stderr.write(`verifier: audit log ${path}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
}

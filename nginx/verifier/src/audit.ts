/**
 * One JSON line per decision, to stderr or a file. The token itself is never written: at most the first
 * 12 hex characters of its SHA-256 and its jti, enough to correlate with Keycloak's and the server's logs.
 */
import { createWriteStream } from 'node:fs';
import type { RefusalCode } from './errors.ts';

export interface AuditEvent {
  outcome: 'accept' | 'refuse';
  code: RefusalCode | 'ok';
  route: string | undefined;
  method?: string | undefined;
  path?: string | undefined;
  sub?: string | undefined;
  azp?: string | undefined;
  jti?: string | undefined;
  tokenSha256?: string | undefined;
  cached?: boolean;
}

export type AuditSink = (e: AuditEvent) => void;

/** `stderr`, or an append-only file; `write` lets tests capture lines. */
export function createAuditSink(target: string, write?: (line: string) => void): AuditSink {
  const out = write ?? (target === 'stderr' ? (l: string) => void process.stderr.write(l) : fileWriter(target));
  return (e) => out(JSON.stringify({ ts: new Date().toISOString(), svc: 'verifier', ...e }) + '\n');
}

function fileWriter(path: string): (line: string) => void {
  const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  stream.on('error', (err) => process.stderr.write(`verifier: audit log ${path}: ${err.message}\n`));
  return (l) => void stream.write(l);
}

/**
 * What the audit logs hold for a soak run, counted against what its callers sent. Streamed line by line: after
 * 64 × 10,000 calls each log is hundreds of MB, more than one string may hold.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { StackManifest } from '../tests/harness/manifest.ts';
import type { SoakCounts } from './soak-load.ts';

export interface AuditCounts {
  /** Verifier records naming one of the run's tokens, by outcome/code (`accept ok`, `refuse expired`…). */
  verifier: Record<string, number>;
  verifierTotal: number;
  /** MCP records in one of the run's sessions, per server, by event and outcome. */
  mcp: { ro: Record<string, number>; rw: Record<string, number> };
  /** `tool_call` records of both servers together, and `http_refused` ones. */
  toolCalls: number;
  httpRefused: number;
}

async function eachRecord(file: string, visit: (r: Record<string, unknown>) => void): Promise<void> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }).on('error', () => undefined), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      visit(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* a line cut by a crash is not a record */
    }
  }
}

const bump = (o: Record<string, number>, k: string) => {
  o[k] = (o[k] ?? 0) + 1;
};

export async function countAudit(m: StackManifest, run: Pick<SoakCounts, 'sessions' | 'tokenHashes'>): Promise<AuditCounts> {
  const out: AuditCounts = { verifier: {}, verifierTotal: 0, mcp: { ro: {}, rw: {} }, toolCalls: 0, httpRefused: 0 };
  const tokens = new Set(run.tokenHashes);
  await eachRecord(m.auditLog.verifier, (r) => {
    if (!tokens.has(r.tokenSha256 as string)) return;
    out.verifierTotal++;
    bump(out.verifier, `${String(r.outcome)} ${String(r.code)}`);
  });
  for (const route of ['ro', 'rw'] as const) {
    const sessions = new Set(run.sessions[route]);
    await eachRecord(route === 'ro' ? m.auditLog.readOnly : m.auditLog.readWrite, (r) => {
      if (!sessions.has(r.sessionId as string)) return;
      bump(out.mcp[route], `${String(r.event)} ${String(r.outcome)}${r.errorCode ? ` ${String(r.errorCode)}` : ''}`);
      if (r.event === 'tool_call') out.toolCalls++;
      if (r.event === 'http_refused') out.httpRefused++;
    });
  }
  return out;
}

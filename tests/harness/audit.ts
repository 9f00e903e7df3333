/** Reads an audit log (one JSON object per line) as the suites assert on it. */
import { readFile } from 'node:fs/promises';

export interface AuditLine {
  time?: string;
  subject?: string;
  username?: string;
  agent?: string;
  tool?: string;
  outcome?: string;
  code?: string;
  [k: string]: unknown;
}

export async function readAudit(file: string): Promise<AuditLine[]> {
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as AuditLine);
}

export interface AuditWaitOptions {
  /** How many matching lines to wait for (default 1). */
  min?: number;
  timeoutMs?: number;
}

/**
 * The matching lines of an audit log once at least `min` of them exist, each with its raw text (sizes are
 * asserted on the bytes written). Polled, never slept: natively a record is written before the answer
 * leaves, but under compose it reaches the host through the followed container log a moment later. On
 * timeout it returns what there is, so the caller's assertion names the shortfall.
 */
export async function auditWhere(file: string, match: (l: AuditLine) => boolean, o: AuditWaitOptions = {}): Promise<{ line: AuditLine; raw: string }[]> {
  const { min = 1, timeoutMs = 5_000 } = o;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const found = text
      .split('\n')
      .filter((raw) => raw.trim().startsWith('{'))
      .map((raw) => ({ raw, line: JSON.parse(raw) as AuditLine }))
      .filter((e) => match(e.line));
    if (found.length >= min || Date.now() >= deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}

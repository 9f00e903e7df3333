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
  return text.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => JSON.parse(l) as AuditLine);
}

/** The human report: one line per practice, evidence under it; colour only when writing to a terminal. */
import type { Report, Status } from '../practice.ts';

const MARK: Record<Status, string> = { pass: 'PASS', fail: 'FAIL', 'not-applicable': 'N/A ' };
const COLOUR: Record<Status, string> = { pass: '\x1b[32m', fail: '\x1b[31m', 'not-applicable': '\x1b[90m' };

export function toTable(r: Report, o: { colour: boolean; width?: number }): string {
  const idWidth = Math.max(...r.practices.map((p) => p.id.length), 8);
  const paint = (s: Status, text: string) => (o.colour ? `${COLOUR[s]}${text}\x1b[0m` : text);
  const lines = [`mcp-audit ${r.target}`, ''];
  for (const p of r.practices) {
    lines.push(`${paint(p.status, MARK[p.status])}  ${p.id.padEnd(idWidth)}  ${p.title}`);
    lines.push(`${' '.repeat(6 + idWidth)}  ${truncate(p.evidence, (o.width ?? 160) - idWidth - 8)}`);
  }
  const count = (s: Status) => r.practices.filter((p) => p.status === s).length;
  lines.push('', `${count('pass')} pass, ${count('fail')} fail, ${count('not-applicable')} not applicable`);
  return `${lines.join('\n')}\n`;
}

const truncate = (text: string, n: number) => {
  const s = text.replace(/\s+/g, ' ');
  return s.length > n ? `${s.slice(0, Math.max(n - 1, 20))}…` : s;
};

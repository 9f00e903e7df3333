/** Runs the selected practices against one target, in order; a probe that throws is reported, never swallowed. */
import { AuditContext, type AuditOptions } from './context.ts';
import type { Finding, Practice, Report } from './practice.ts';
import { PRACTICES } from './practices/index.ts';

export async function audit(o: AuditOptions & { only?: readonly string[] }, practices: readonly Practice[] = PRACTICES): Promise<Report> {
  const ctx = new AuditContext(o);
  const selected = o.only?.length ? practices.filter((p) => o.only!.includes(p.id)) : practices;
  const findings: Finding[] = [];
  try {
    for (const p of selected) {
      // A probe that cannot complete (connection refused, a malformed answer) cannot show the practice holds.
      const outcome = await p.run(ctx).catch((e: Error) => ({ status: 'fail' as const, evidence: `probe failed: ${e.message}` }));
      findings.push({ id: p.id, title: p.title, source: p.source, ...outcome });
    }
  } finally {
    await ctx.close();
  }
  return { target: o.url.toString(), practices: findings };
}

/** 0 when every applicable practice passes, 1 when any fails. */
export const exitCodeOf = (r: Report): 0 | 1 => (r.practices.some((p) => p.status === 'fail') ? 1 : 0);

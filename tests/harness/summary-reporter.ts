/**
 * Closes every run with what a security reviewer needs to read: the proofs table (attack or flow →
 * expected → observed), every skipped test with its reason, and one plain count line.
 * A skipped check is not a passed one, so skips are listed by name, never folded into a number.
 */
import type { Reporter, TestModule, TestCase } from 'vitest/node';
import type { Proof } from './proof.ts';

function* cases(modules: ReadonlyArray<TestModule>): Generator<TestCase> {
  for (const m of modules) yield* m.children.allTests();
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    const proofs: Array<Proof & { ok: boolean }> = [];
    for (const t of cases(modules)) {
      const r = t.result();
      const name = `[${t.project.name}] ${t.fullName}`;
      if (r.state === 'passed') passed++;
      else if (r.state === 'failed') failed++;
      else if (r.state === 'skipped') skipped.push(`${name} — ${r.note ?? t.options.mode + ' (no reason given)'}`);
      const proof = (t.meta() as { proof?: Proof }).proof;
      if (proof) proofs.push({ ...proof, ok: r.state === 'passed' });
    }
    const out: string[] = [''];
    if (proofs.length > 0) {
      out.push('Proofs (attack or flow → expected → observed):');
      for (const p of proofs) out.push(`  ${p.ok ? 'PASS' : 'FAIL'}  ${p.attack} → ${p.expected} → ${p.observed}`);
      out.push('');
    }
    if (skipped.length > 0) {
      out.push(`Skipped (${skipped.length}) — not passes; each with its reason:`);
      for (const s of skipped) out.push(`  SKIP  ${s}`);
      out.push('');
    }
    out.push(`tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped`);
    process.stdout.write(out.join('\n') + '\n');
  }
}

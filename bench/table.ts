/** The run as text for stdout: one block per operation, one row per path, then the targets. */
import type { BenchPath, PathId } from './paths.ts';
import { OPERATIONS, type Operation } from './operations.ts';
import type { Summary } from './stats.ts';
import type { TargetResult } from './targets-check.ts';

const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const rate = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(0));
const pad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

export function latencyTable(paths: BenchPath[], concurrencies: number[], get: (p: PathId, op: Operation, c: number) => Summary | undefined): string {
  const high = concurrencies.filter((c) => c > 1);
  // gen: the load generator's CPU per call (µs) and share of one core, at the highest concurrency: a client
  // near a full core is itself the bottleneck, and its row says so.
  const top = high[high.length - 1];
  const head = [
    pad('p50', 8),
    pad('p95', 8),
    pad('p99', 8),
    ...high.flatMap((c) => [pad(`calls/s@${c}`, 12), pad(`p99@${c}`, 9)]),
    ...(top ? [pad(`gen µs@${top}`, 11), pad('gen core', 9)] : []),
    pad('calls', 7),
    pad('errors', 7),
  ];
  const width = Math.max(...paths.map((p) => p.id.length)) + 2;
  const lines: string[] = [];
  for (const op of OPERATIONS) {
    lines.push(`\n${op} (latency ms at 1 client; throughput and p99 at ${high.join(' and ')} concurrent clients)`);
    lines.push(`${' '.repeat(width)}${head.join('')}`);
    for (const p of paths) {
      const one = get(p.id, op, 1);
      const cells = [pad(ms(one?.p50), 8), pad(ms(one?.p95), 8), pad(ms(one?.p99), 8)];
      let calls = one?.calls ?? 0,
        errors = one?.errors ?? 0;
      for (const c of high) {
        const s = get(p.id, op, c);
        cells.push(pad(rate(s?.throughput), 12), pad(ms(s?.p99), 9));
        calls += s?.calls ?? 0;
        errors += s?.errors ?? 0;
      }
      if (top) {
        const g = get(p.id, op, top);
        cells.push(pad(rate(g?.loadgenUsPerCall), 11), pad(g && Number.isFinite(g.loadgenCoreShare) ? `${(g.loadgenCoreShare * 100).toFixed(0)}%` : '-', 9));
      }
      lines.push(`${p.id.padEnd(width)}${cells.join('')}${pad(String(calls), 7)}${pad(String(errors), 7)}`);
    }
  }
  return lines.join('\n');
}

export function targetTable(results: TargetResult[]): string {
  const fmt = (r: TargetResult) =>
    r.value === null
      ? 'n/a'
      : r.target.includes('overhead')
        ? `${r.value.toFixed(2)} ms`
        : r.target.includes('verifier')
          ? r.value.toFixed(0)
          : `${r.value.toFixed(2)}×`;
  const mark = (r: TargetResult) => (r.met === null ? 'n/a ' : r.met ? 'met ' : 'MISS');
  const w = Math.max(...results.map((r) => r.detail.length)) + 2;
  return ['\ntargets (reported, not asserted)', ...results.map((r) => `  ${mark(r)}  ${r.detail.padEnd(w)}${pad(fmt(r), 12)}   (${r.target})`)].join('\n');
}

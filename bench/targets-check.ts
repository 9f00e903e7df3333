/**
 * The targets of GitHub issues #7 and #15, computed from a run — reported, never asserted: this machine is
 * shared and the lead's measurement decides. Every target is a ratio (or difference) of two paths measured in
 * the same run, so a slow minute moves both sides. Latency ratios use concurrency 1; throughput ratios 16 and 64.
 */
import { OPERATIONS } from './operations.ts';
import type { PathId } from './paths.ts';
import type { Summary } from './stats.ts';
import type { VerifierRate } from './verifier-rate.ts';

export interface TargetResult {
  target: string;
  detail: string;
  value: number | null;
  limit: number;
  /** null when a path it needs was not measured. */
  met: boolean | null;
}

type Lookup = (path: PathId, op: (typeof OPERATIONS)[number], concurrency: number) => Summary | undefined;

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 && Number.isFinite(a) ? a / b : null);

function check(target: string, detail: string, value: number | null, limit: number, atMost: boolean): TargetResult {
  return { target, detail, value, limit, met: value === null ? null : atMost ? value <= limit : value >= limit };
}

export function evaluateTargets(get: Lookup, concurrencies: number[], verifier: VerifierRate | undefined): TargetResult[] {
  const out: TargetResult[] = [];
  const high = concurrencies.filter((c) => c > 1);
  for (const op of OPERATIONS) {
    const sec = get('secure', op, 1),
      dir = get('direct-http', op, 1),
      off = get('official-http', op, 1);
    const drv = get('driver', op, 1),
      stdio = get('direct-stdio', op, 1),
      offStdio = get('official-stdio', op, 1);
    out.push(check('secure p50 ≤ 1.3× direct', `${op}: secure/direct-http p50`, ratio(sec?.p50, dir?.p50), 1.3, true));
    out.push(check('secure p99 ≤ 2× direct', `${op}: secure/direct-http p99`, ratio(sec?.p99, dir?.p99), 2, true));
    out.push(check('ours p50 ≤ 0.7× official', `${op}: direct-http/official-http p50`, ratio(dir?.p50, off?.p50), 0.7, true));
    out.push(check('ours p50 ≤ 0.7× official', `${op}: direct-stdio/official-stdio p50`, ratio(stdio?.p50, offStdio?.p50), 0.7, true));
    for (const c of high) {
      const t = ratio(get('direct-http', op, c)?.throughput, get('official-http', op, c)?.throughput);
      out.push(check('ours throughput ≥ 2× official (#15)', `${op} @${c}: direct-http/official-http calls/s`, t, 2, false));
    }
    // #15's headline: the HTTP path's share of the driver's throughput, where the database costs least.
    if (op === 'list-collections' && high.includes(16)) {
      const t = ratio(get('direct-http', op, 16)?.throughput, get('driver', op, 16)?.throughput);
      out.push(check('direct HTTP throughput ≥ 0.6× driver (#15)', `${op} @16: direct-http/driver calls/s`, t, 0.6, false));
    }
    const overhead = dir && drv ? dir.p50 - drv.p50 : null;
    out.push(check('HTTP overhead over driver ≤ 0.5 ms p50 (#15)', `${op}: direct-http p50 − driver p50 (ms)`, overhead, 0.5, true));
    const stdioOverhead = stdio && drv ? stdio.p50 - drv.p50 : null;
    out.push(check('MCP overhead over driver ≤ 1 ms p50', `${op}: direct-stdio p50 − driver p50 (ms)`, stdioOverhead, 1, true));
  }
  out.push(check('verifier ≥ 20k validations/s/core', 'in-process validations per CPU-second', verifier?.perCpuSecond ?? null, 20_000, false));
  return out;
}

/**
 * Latency statistics over merged samples. Percentiles use the nearest-rank method (no interpolation), so
 * every reported value is a latency that was actually observed.
 */

export interface Samples {
  /** Milliseconds, one per completed call (failed calls are counted, not timed). */
  latenciesMs: number[];
  errors: number;
  /** Wall time during which calls were in flight, summed over rounds. */
  elapsedMs: number;
  /** Up to a few distinct error messages, for the report (never contain secrets: tool/HTTP messages only). */
  errorSamples: string[];
}

export interface Summary {
  calls: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  /** Completed calls per second. */
  throughput: number;
}

export const emptySamples = (): Samples => ({ latenciesMs: [], errors: 0, elapsedMs: 0, errorSamples: [] });

export function merge(into: Samples, more: Samples): void {
  for (const v of more.latenciesMs) into.latenciesMs.push(v);
  into.errors += more.errors;
  into.elapsedMs += more.elapsedMs;
  for (const e of more.errorSamples) if (into.errorSamples.length < 5 && !into.errorSamples.includes(e)) into.errorSamples.push(e);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(s: Samples): Summary {
  const sorted = [...s.latenciesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    calls: sorted.length,
    errors: s.errors,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    throughput: s.elapsedMs > 0 ? (sorted.length * 1000) / s.elapsedMs : 0,
  };
}

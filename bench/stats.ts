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
  /**
   * CPU the load generator itself used meanwhile (user + system, its whole process): on a 2-core machine a
   * client that burns a core is part of what is measured, so it is reported next to the numbers it shapes.
   */
  loadgenCpuMs: number;
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
  /** The load generator's CPU per completed call (µs) and its share of one core while the phase ran. */
  loadgenUsPerCall: number;
  loadgenCoreShare: number;
}

export const emptySamples = (): Samples => ({ latenciesMs: [], errors: 0, elapsedMs: 0, errorSamples: [], loadgenCpuMs: 0 });

export function merge(into: Samples, more: Samples): void {
  for (const v of more.latenciesMs) into.latenciesMs.push(v);
  into.errors += more.errors;
  into.elapsedMs += more.elapsedMs;
  into.loadgenCpuMs += more.loadgenCpuMs ?? 0;
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
    loadgenUsPerCall: sorted.length ? (s.loadgenCpuMs * 1000) / sorted.length : Number.NaN,
    loadgenCoreShare: s.elapsedMs > 0 ? s.loadgenCpuMs / s.elapsedMs : Number.NaN,
  };
}

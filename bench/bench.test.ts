import { describe, expect, it } from 'vitest';
import { percentile, summarize, emptySamples, merge } from './stats.ts';
import { runLoad } from './load.ts';
import { evaluateTargets } from './targets-check.ts';
import { latencySvg, writePng } from './chart.ts';
import type { BenchPath } from './paths.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('bench statistics', () => {
  it('reports nearest-rank percentiles, so every percentile is an observed latency', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99)]).toEqual([50, 95, 99]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('computes throughput from completed calls over the summed elapsed time of all rounds', () => {
    const a = { ...emptySamples(), latenciesMs: [1, 2], elapsedMs: 500 };
    const b = { ...emptySamples(), latenciesMs: [3, 4], errors: 1, elapsedMs: 500, errorSamples: ['x'] };
    const all = emptySamples();
    merge(all, a);
    merge(all, b);
    expect(summarize(all)).toMatchObject({ calls: 4, errors: 1, throughput: 4, p50: 2 });
  });
});

describe('bench load phases', () => {
  it('stops at the call budget and counts failed calls as errors rather than latencies', async () => {
    let n = 0;
    const call = async () => {
      if (++n % 4 === 0) throw new Error('tool error: boom');
    };
    const s = await runLoad([call, call], { durationMs: 10_000, maxCalls: 20 });
    expect(s.latenciesMs.length + s.errors).toBe(20);
    expect(s.errors).toBe(5);
    expect(s.errorSamples).toEqual(['tool error: boom']);
  });
});

describe('bench targets', () => {
  it('reports a target as not applicable when a path it compares was not measured', () => {
    const r = evaluateTargets(() => undefined, [1, 16, 64], undefined);
    expect(r.every((t) => t.met === null && t.value === null)).toBe(true);
  });

  it('judges the secure path against the direct path by ratio of p50 at one client', () => {
    const s = (p50: number) => ({ calls: 1, errors: 0, p50, p95: p50, p99: p50, mean: p50, throughput: 1, loadgenUsPerCall: 100, loadgenCoreShare: 0.1 });
    const r = evaluateTargets((p) => (p === 'secure' ? s(2.5) : p === 'direct-http' ? s(2) : undefined), [1], undefined);
    const t = r.find((x) => x.detail.startsWith('find: secure/direct-http p50'))!;
    expect(t.value).toBeCloseTo(1.25);
    expect(t.met).toBe(true);
  });

  it('judges direct HTTP against the driver by the ratio of their throughput at 16 clients on list-collections', () => {
    const s = (throughput: number) => ({ calls: 1, errors: 0, p50: 1, p95: 1, p99: 1, mean: 1, throughput, loadgenUsPerCall: 100, loadgenCoreShare: 0.1 });
    const r = evaluateTargets((p) => (p === 'driver' ? s(2000) : p === 'direct-http' ? s(1100) : undefined), [1, 16], undefined);
    const t = r.find((x) => x.detail === 'list-collections @16: direct-http/driver calls/s')!;
    expect(t.value).toBeCloseTo(0.55);
    expect(t.met).toBe(false);
  });
});

describe('bench load generator', () => {
  it('reports its own CPU per phase, so a row shaped by the client says so', async () => {
    const busy = async () => {
      const until = performance.now() + 2;
      while (performance.now() < until); // burns CPU in this process, as a client would
    };
    const s = await runLoad([busy], { durationMs: 10_000, maxCalls: 20 });
    const sum = summarize(s);
    expect(s.loadgenCpuMs).toBeGreaterThan(0);
    expect(sum.loadgenUsPerCall).toBeGreaterThan(0);
  });
});

describe('bench chart', () => {
  it('renders the latency chart as a PNG without a browser or native build', () => {
    const paths: BenchPath[] = [{ id: 'driver', label: 'raw driver', spec: { kind: 'driver' }, netns: null }];
    const svg = latencySvg(
      paths,
      () => ({ calls: 1, errors: 0, p50: 1.5, p95: 2, p99: 3, mean: 1.6, throughput: 600, loadgenUsPerCall: 100, loadgenCoreShare: 0.1 }),
      'test',
    );
    const file = join(mkdtempSync(join(tmpdir(), 'bench-')), 'latency.png');
    writePng(svg, file);
    expect(readFileSync(file).subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});

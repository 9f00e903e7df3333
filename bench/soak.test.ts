import { describe, expect, it } from 'vitest';
import { Resvg } from '@resvg/resvg-js';
import { rssSvg } from './soak-chart.ts';
import { problemsOf } from './soak-run.ts';
import { trends, type RssSample } from './soak-rss.ts';
import type { SoakCounts } from './soak-load.ts';

const series = (f: (i: number) => number, n = 50): RssSample[] => Array.from({ length: n }, (_, i) => ({ t: i, calls: i * 10, mib: { verifier: f(i) } }));

describe('soak RSS trends', () => {
  it('reports a tier that only grows during warm-up as flat afterwards', () => {
    const [t] = trends(series((i) => (i < 10 ? 50 + i * 3 : 80)));
    expect(t).toMatchObject({ tier: 'verifier', startMiB: 50, afterWarmupMiB: 80, endMiB: 80, maxMiB: 80, growthMiB: 0, growthPct: 0 });
  });

  it('reports growth after warm-up as the difference between the first and last fifth of the warm samples', () => {
    const [t] = trends(series((i) => 100 + i));
    // Warm samples are 10..49; the first fifth (10..17) averages 113.5, the last fifth (42..49) 145.5.
    expect(t!.afterWarmupMiB).toBe(114);
    expect(t!.endMiB).toBe(146);
    expect(t!.growthMiB).toBe(32);
  });
});

describe('soak problems', () => {
  const counts = (o: Partial<SoakCounts> = {}): SoakCounts => ({
    ok: 8,
    errors: {},
    quota: { 'mcp 429 CALLER_BUSY': 3 },
    requests: 16,
    pastEdgeLimiter: 16,
    toolCallsAnswered: 8,
    mcpRefusedInSession: 3,
    sessions: { ro: ['a'], rw: ['b'] },
    tokenHashes: ['x'],
    perCaller: [4, 4],
    stoppedByBudget: false,
    elapsedMs: 1,
    latencyMs: { p50: 1, p99: 1, max: 1 },
    ...o,
  });
  const audit = { verifier: { 'accept ok': 16 }, verifierTotal: 16, mcp: { ro: {}, rw: {} }, toolCalls: 8, httpRefused: 3 };
  const rss = { everyMs: 1000, samples: [], trend: [], restarts: {} };

  it('finds none in a run whose only refusals are quota refusals and whose audit counts match', () => {
    expect(problemsOf({ options: { callers: 2, calls: 4, rate: 0, tool: { name: 't', arguments: {} } }, counts: counts(), audit, rss })).toEqual([]);
  });

  it('names every unexpected error, short caller, audit mismatch and restart', () => {
    const p = problemsOf({
      options: { callers: 2, calls: 4, rate: 0, tool: { name: 't', arguments: {} } },
      counts: counts({ errors: { 'http 502 upstream_unavailable': 1 }, perCaller: [4, 3] }),
      audit: { ...audit, verifierTotal: 15, toolCalls: 7 },
      rss: { ...rss, restarts: { 'mcp-ro': [1, 2] } },
    });
    expect(p).toEqual([
      '1 × http 502 upstream_unavailable',
      '1 callers short of 4 calls',
      'verifier records 15 ≠ requests past the edge limiter 16',
      'MCP tool_call records 7 ≠ answered tools/call 8',
      'mcp-ro restarted during the run (pids 1 → 2)',
    ]);
  });
});

describe('soak RSS plot', () => {
  it('renders one panel per tier as a PNG without a browser', () => {
    const samples = series((i) => 60 + (i % 3));
    const svg = rssSvg(samples, trends(samples), 'test');
    expect(svg).toContain('>verifier<');
    const png = new Resvg(svg, { font: { loadSystemFonts: true } }).render().asPng();
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });
});

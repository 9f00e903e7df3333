/**
 * RSS of every tier over a soak run, from /proc: each tier is a process group (kc.sh → java, nginx master →
 * workers), summed by scripts/stack/memory.ts. The pids come from the manifest on disk at every sample, so a
 * tier the supervisor restarted is followed (and the restart is reported: a soak must see none).
 */
import { groupMemoryMiB } from '../scripts/stack/memory.ts';
import { readManifest } from '../tests/harness/manifest.ts';

export interface RssSample {
  /** Seconds since the sampler started. */
  t: number;
  /** Calls completed so far (the x the reader relates memory to). */
  calls: number;
  /** MiB per tier, plus `soak-client` (this process). */
  mib: Record<string, number>;
}

export interface RssSeries {
  samples: RssSample[];
  /** Tiers whose pid changed during the run, with the pids seen. */
  restarts: Record<string, number[]>;
  stop(): Promise<void>;
}

export function sampleRss(everyMs: number, calls: () => number): RssSeries {
  const samples: RssSample[] = [];
  const seen: Record<string, number[]> = {};
  const t0 = performance.now();
  const take = async () => {
    const pids = (await readManifest())?.pids ?? {};
    for (const [tier, pid] of Object.entries(pids)) if (seen[tier]?.at(-1) !== pid) (seen[tier] ??= []).push(pid);
    const mib = groupMemoryMiB(Object.entries(pids).map(([name, pid]) => ({ name, pid })));
    mib['soak-client'] = Math.round(process.memoryUsage().rss / 2 ** 20);
    samples.push({ t: Math.round((performance.now() - t0) / 100) / 10, calls: calls(), mib });
  };
  let pending = take();
  const timer = setInterval(() => {
    pending = pending.then(take, take);
  }, everyMs);
  return {
    samples,
    get restarts() {
      return Object.fromEntries(Object.entries(seen).filter(([, p]) => p.length > 1));
    },
    async stop() {
      clearInterval(timer);
      await pending.catch(() => undefined);
      await take();
    },
  };
}

export interface TierTrend {
  tier: string;
  startMiB: number;
  /** Mean over the first 20 % of samples after warm-up, and over the last 20 %. */
  afterWarmupMiB: number;
  endMiB: number;
  maxMiB: number;
  growthMiB: number;
  growthPct: number;
}

/**
 * Per tier: memory at the start, once warm (the first samples after `warmupFraction` of the run) and at the end.
 * Flat after warm-up means `growthMiB` is small next to the tier's size; reported, never asserted.
 */
export function trends(samples: RssSample[], warmupFraction = 0.2): TierTrend[] {
  if (samples.length === 0) return [];
  const tiers = Object.keys(samples.at(-1)!.mib);
  const warm = samples.slice(Math.floor(samples.length * warmupFraction));
  const window = Math.max(1, Math.floor(warm.length * 0.2));
  const mean = (xs: RssSample[], tier: string) => xs.reduce((s, x) => s + (x.mib[tier] ?? 0), 0) / xs.length;
  return tiers.map((tier) => {
    const afterWarmupMiB = mean(warm.slice(0, window), tier);
    const endMiB = mean(warm.slice(-window), tier);
    const growthMiB = endMiB - afterWarmupMiB;
    return {
      tier,
      startMiB: samples[0]!.mib[tier] ?? 0,
      afterWarmupMiB: Math.round(afterWarmupMiB),
      endMiB: Math.round(endMiB),
      maxMiB: Math.max(...samples.map((s) => s.mib[tier] ?? 0)),
      growthMiB: Math.round(growthMiB * 10) / 10,
      growthPct: afterWarmupMiB > 0 ? Math.round((growthMiB / afterWarmupMiB) * 1000) / 10 : 0,
    };
  });
}

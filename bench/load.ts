/**
 * One measured phase: `callers.length` concurrent clients, each issuing calls back to back until the time
 * or call budget is spent. A warm-up of the same shape runs first and is discarded (JIT, connection pools,
 * caches), so only steady state is reported.
 */
import { emptySamples, type Samples } from './stats.ts';

/** One call by one client; throws on failure (transport error or a tool result with isError). */
export type Call = () => Promise<void>;

export interface PhaseBudget {
  durationMs: number;
  maxCalls: number;
}

function message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/\s+/g, ' ').slice(0, 160);
}

export async function runLoad(callers: Call[], budget: PhaseBudget): Promise<Samples> {
  const samples = emptySamples();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + budget.durationMs;
  let issued = 0;
  let lastEnd = start;
  const loop = async (call: Call) => {
    while (performance.now() < deadline && issued < budget.maxCalls) {
      issued++;
      const t0 = performance.now();
      try {
        await call();
        const t1 = performance.now();
        samples.latenciesMs.push(t1 - t0);
      } catch (e) {
        samples.errors++;
        const m = message(e);
        if (samples.errorSamples.length < 5 && !samples.errorSamples.includes(m)) samples.errorSamples.push(m);
      }
      lastEnd = performance.now();
    }
  };
  await Promise.all(callers.map(loop));
  samples.elapsedMs = lastEnd - start;
  const cpu = process.cpuUsage(cpu0);
  samples.loadgenCpuMs = (cpu.user + cpu.system) / 1000;
  return samples;
}

export async function runPhase(callers: Call[], warmup: PhaseBudget, measure: PhaseBudget): Promise<Samples> {
  if (warmup.durationMs > 0) await runLoad(callers, warmup);
  return runLoad(callers, measure);
}

/**
 * The measurement schedule. Paths are interleaved round-robin within each round (and the starting path and
 * operation rotate between rounds), so a slow minute on this shared machine smears across every path
 * instead of landing on one. Only one phase runs at a time: paths never compete with each other for CPU.
 */
import type { BenchOptions } from './options.ts';
import { OPERATIONS, type Operation } from './operations.ts';
import type { BenchPath, PathId } from './paths.ts';
import { emptySamples, merge, type Samples } from './stats.ts';
import type { WorkerHandle } from './worker-client.ts';

export const cellKey = (path: PathId, op: Operation, concurrency: number) => `${path}|${op}|${concurrency}`;

export interface Measurement {
  cells: Map<string, Samples>;
  /** Paths that could not be measured (or stopped part-way), with the reason. */
  failures: Map<PathId, string>;
  roundsCompleted: number;
  elapsedMs: number;
  /** Why the run ended early, if it did. */
  aborted?: string;
}

const rotate = <T>(list: readonly T[], by: number): T[] => list.map((_, i) => list[(i + by) % list.length]!);

/**
 * `stackAlive` is asked before each path's turn: others share this machine and may stop or restart the
 * stack; numbers from a half-stopped stack would be lies, so the run ends and says why.
 */
export async function measure(
  paths: BenchPath[],
  workers: Map<PathId, WorkerHandle>,
  o: BenchOptions,
  log: (s: string) => void,
  stackAlive: () => boolean,
): Promise<Measurement> {
  const cells = new Map<string, Samples>();
  const failures = new Map<PathId, string>();
  const start = Date.now();
  const deadline = start + o.measureBudgetMs;
  const warmup = { durationMs: o.warmupMs, maxCalls: o.maxCallsPerPhase };
  const phase = { durationMs: o.phaseMs, maxCalls: o.maxCallsPerPhase };
  let roundsCompleted = 0;
  // A worker answers a run after its budgets plus, at worst, two timed-out calls (warm-up and measure).
  const runTimeoutMs = o.warmupMs + o.phaseMs + 2 * o.callTimeoutMs + 10_000;
  let lastRoundMs = 0;
  // Once per path before round 1, untimed: a freshly started server (stdio, the official one) or a server the
  // bench has not called yet runs its first seconds of calls in V8's interpreter, several times slower.
  for (const p of paths) {
    const w = workers.get(p.id);
    if (!w || o.pathWarmupMs <= 0) continue;
    try {
      const c = Math.max(...o.concurrencies);
      await w.send({ cmd: 'open', concurrency: c, callTimeoutMs: o.callTimeoutMs });
      for (const op of OPERATIONS)
        await w.send(
          { cmd: 'run', op, warmup: { durationMs: 0, maxCalls: 0 }, measure: { durationMs: o.pathWarmupMs, maxCalls: o.maxCallsPerPhase } },
          runTimeoutMs + o.pathWarmupMs,
        );
      await w.send({ cmd: 'close' });
    } catch (e) {
      failures.set(p.id, `warm-up: ${(e as Error).message}`);
    }
  }
  log(`  warmed up every path (${o.pathWarmupMs} ms per operation, untimed)`);
  // Only whole rounds run, so every path gets the same share: a round that would overrun the budget is skipped.
  for (let round = 0; round < o.rounds && Date.now() + lastRoundMs <= deadline; round++) {
    const roundStart = Date.now();
    for (const p of rotate(paths, round)) {
      const w = workers.get(p.id);
      if (!w || failures.has(p.id)) continue;
      if (!stackAlive()) {
        log('  the stack stopped or restarted during the run: stopping');
        return { cells, failures, roundsCompleted, elapsedMs: Date.now() - start, aborted: 'the stack stopped or restarted during the run' };
      }
      try {
        for (const c of o.concurrencies) {
          await w.send({ cmd: 'open', concurrency: c, callTimeoutMs: o.callTimeoutMs });
          for (const op of rotate(OPERATIONS, round)) {
            const s = await w.send({ cmd: 'run', op, warmup, measure: phase }, runTimeoutMs);
            const key = cellKey(p.id, op, c);
            if (!cells.has(key)) cells.set(key, emptySamples());
            merge(cells.get(key)!, s);
          }
          await w.send({ cmd: 'close' });
        }
      } catch (e) {
        if (!stackAlive()) {
          return { cells, failures, roundsCompleted, elapsedMs: Date.now() - start, aborted: 'the stack stopped or restarted during the run' };
        }
        failures.set(p.id, (e as Error).message);
        log(`  ${p.id}: stopped: ${(e as Error).message}`);
        continue;
      }
      log(`  round ${round + 1}/${o.rounds}: ${p.id} done (${Math.round((Date.now() - start) / 1000)} s)`);
    }
    roundsCompleted = round + 1;
    lastRoundMs = Date.now() - roundStart;
  }
  return { cells, failures, roundsCompleted, elapsedMs: Date.now() - start };
}

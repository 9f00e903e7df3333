/**
 * Stopping the server on SIGTERM/SIGINT (or stdin closed): the steps run in order — stop serving, close the
 * database client, send the last spans — and each has a budget. A step still running when its budget is spent
 * is left behind and the next one runs: a frozen database, or a trace collector that is gone, refuses, or
 * accepts and never answers, cannot hold the exit past what a runner waits after SIGTERM before it kills
 * (5 s for the native stack's tiers, 10 s by default in a container engine). The audit needs no step: every
 * record is written synchronously before its call answers, so nothing of it is pending here.
 */
export type Settled = 'done' | 'timed-out' | 'failed';

/** `work`'s outcome, or `timed-out` once `timeoutMs` has passed; never rejects (a synchronous throw is `failed`). */
export function settleWithin(work: () => unknown, timeoutMs: number): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Settled>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), timeoutMs);
  });
  const done = Promise.resolve()
    .then(work)
    .then(
      (): Settled => 'done',
      (): Settled => 'failed',
    );
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

/**
 * Runs the steps in the order given, each already bounded (settleWithin, or Tracing.shutdown), and writes one
 * line per step that did not finish cleanly, named by its key (a fixed word: never a URL, an endpoint may carry
 * credentials).
 */
export async function runShutdown(steps: Record<string, () => Promise<Settled>>, log: (line: string) => void): Promise<void> {
  for (const [name, step] of Object.entries(steps)) {
    const outcome = await step();
    if (outcome !== 'done') log(`shutdown: ${name} ${outcome}; going on`);
  }
}

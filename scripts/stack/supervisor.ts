/**
 * Keeps a running stack's tiers up: a tier that exits is started again alone (the others keep serving),
 * after a back-off that doubles with each recent crash, and the stack is given up only on a crash loop —
 * too many restarts of one tier within a window — because a tier that cannot stay up would make every
 * later proof lie. Each restart is logged with why (exit code or signal, the tier's last log lines).
 * Used by `npm start` (scripts/stack/start.ts) and by the stack suites' fixture (tests/harness/global-setup.ts).
 */
import type { Service } from './process.ts';

/** What the supervisor needs from a stack (scripts/stack/stack.ts RunningStack). */
export interface SupervisedStack {
  readonly services: readonly Service[];
  readonly stopping: boolean;
  restart(tier: string): Promise<Service>;
}

export interface SupervisorOptions {
  log: (line: string) => void;
  /** Called once when a tier crash-loops; the caller stops the stack. */
  giveUp: (reason: string) => void;
  /** First back-off; doubles with each restart in the window, up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** More than this many restarts of one tier within windowMs is a crash loop. */
  maxRestarts?: number;
  windowMs?: number;
}

export interface Supervisor {
  /** Stops watching; tiers that exit afterwards are left down. */
  stop(): void;
}

export interface RestartRecord {
  tier: string;
  reason: string;
  at: number;
  /** Milliseconds from the exit being seen to the new process being healthy; undefined while pending or failed. */
  recoveredMs?: number;
  pid?: number;
}

/** Back-off before the n-th restart of a tier in the window (n from 0): initial · 2ⁿ, capped. */
export function backoffMs(n: number, initialMs = 500, maxMs = 8_000): number {
  return Math.min(maxMs, initialMs * 2 ** n);
}

const describeEnd = (e: { code: number | null; signal: NodeJS.Signals | null }) => (e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`);

export function superviseStack(stack: SupervisedStack, o: SupervisorOptions): Supervisor {
  const { initialBackoffMs = 500, maxBackoffMs = 8_000, maxRestarts = 5, windowMs = 60_000 } = o;
  const history: RestartRecord[] = [];
  let watching = true;
  let gaveUp = false;
  const active = () => watching && !gaveUp && !stack.stopping;

  const recent = (tier: string, now: number) => history.filter((r) => r.tier === tier && now - r.at < windowMs).length;

  const watch = (service: Service) => {
    void service.ended.then((end) => onEnd(service, describeEnd(end)));
  };

  const onEnd = async (service: Service, why: string): Promise<void> => {
    if (!active()) return; // a tier exiting because the stack stops is not a crash
    const tier = service.name;
    for (;;) {
      const now = Date.now();
      const n = recent(tier, now);
      if (n >= maxRestarts) {
        gaveUp = true;
        o.giveUp(`${tier} crash loop: ${n} restarts within ${windowMs / 1000} s, last ${why}\n${service.tail(20)}`);
        return;
      }
      const wait = backoffMs(n, initialBackoffMs, maxBackoffMs);
      const record: RestartRecord = { tier, reason: why, at: now };
      history.push(record);
      o.log(`${tier} ${why}; restart ${n + 1}/${maxRestarts} in ${(wait / 1000).toFixed(1)} s (others keep running)\n${indent(service.tail(5))}`);
      await new Promise((r) => setTimeout(r, wait));
      if (!active()) return;
      try {
        const next = await stack.restart(tier);
        record.recoveredMs = Date.now() - now;
        record.pid = next.pid;
        o.log(`${tier} restarted: pid ${next.pid}, healthy ${(record.recoveredMs / 1000).toFixed(1)} s after the exit`);
        watch(next);
        return;
      } catch (e) {
        if (!active()) return;
        why = `failed to restart (${(e as Error).message.split('\n')[0]})`;
      }
    }
  };

  for (const s of stack.services) watch(s);
  return {
    stop: () => {
      watching = false;
    },
  };
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

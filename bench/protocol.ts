/**
 * What the bench's coordinator (run.ts, host namespace) and a load-generating worker (worker.ts, possibly
 * inside the edge namespace) say to each other: one JSON object per line, commands on the worker's stdin,
 * replies on its stdout tagged with `bench` so stray library output can never be mistaken for a reply.
 * `extraArgs` are added to every tool call (the official server needs `connectionId: "preconfigured"`).
 * Secrets never travel here: the worker reads them from the 0600 files the manifest names.
 */
import type { PhaseBudget } from './load.ts';
import type { Operation } from './operations.ts';
import type { Samples } from './stats.ts';

export type PathSpec =
  /** The raw driver with the manifest's admin URI (the floor). */
  | { kind: 'driver' }
  /** Streamable HTTP. `proxy`: our server's proxy credential + identity headers; `bearer`: a service-agent token. */
  | { kind: 'http'; url: string; auth: 'proxy' | 'bearer' | 'none'; extraArgs?: Record<string, string> }
  /** A stdio server spawned by the worker; `secretEnv` maps env names to files whose content becomes the value. */
  | {
      kind: 'stdio';
      command: string;
      args: string[];
      env: Record<string, string>;
      secretEnv: Record<string, string>;
      logFile: string;
      extraArgs?: Record<string, string>;
    };

export type Command =
  /** `callTimeoutMs`: a call slower than this counts as an error, so a stalled tier cannot stretch a phase. */
  | { id: number; cmd: 'open'; concurrency: number; callTimeoutMs: number }
  | { id: number; cmd: 'probe' }
  | { id: number; cmd: 'run'; op: Operation; warmup: PhaseBudget; measure: PhaseBudget }
  | { id: number; cmd: 'close' }
  | { id: number; cmd: 'pids' }
  | { id: number; cmd: 'exit' };

export type CommandResult = {
  open: null;
  probe: Record<Operation, string>;
  run: Samples;
  close: null;
  pids: number[];
  exit: null;
};

export type Reply = { bench: number; ok: true; result: unknown } | { bench: number; ok: false; error: string };

/**
 * The coordinator's handle on a worker process: spawned inside a network namespace when its path's server
 * lives there (`ip netns exec <ns> node bench/worker.ts <spec>`), driven one command at a time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { execIn } from '../scripts/stack/process.ts';
import type { Command, CommandResult, PathSpec, Reply } from './protocol.ts';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
/** A command as the caller writes it; the handle adds the id. */
type WithoutId<C> = C extends unknown ? Omit<C, 'id'> : never;

export interface WorkerHandle {
  readonly name: string;
  send<C extends WithoutId<Command>>(c: C, timeoutMs?: number): Promise<CommandResult[C['cmd']]>;
  stop(): Promise<void>;
}

export function startWorker(name: string, spec: PathSpec, netns: string | null, logFile: string): WorkerHandle {
  const { command, args } = execIn(netns, process.execPath, [resolve(import.meta.dirname, 'worker.ts'), JSON.stringify(spec)]);
  const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'pipe', openSync(logFile, 'a')] });
  // A worker that died (e.g. its namespace was torn down) must fail its command, not crash the bench.
  child.stdin!.on('error', () => undefined);
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let exited = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{"bench":')) return;
    const r = JSON.parse(line) as Reply;
    const p = pending.get(r.bench);
    pending.delete(r.bench);
    if (r.ok) p?.resolve(r.result);
    else p?.reject(new Error(`${name}: ${r.error}`));
  });
  const done = new Promise<void>((res) =>
    child.once('exit', () => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${name}: worker exited (see ${logFile})`));
      pending.clear();
      res();
    }),
  );
  const send = <C extends WithoutId<Command>>(c: C, timeoutMs = 120_000): Promise<CommandResult[C['cmd']]> => {
    if (exited) return Promise.reject(new Error(`${name}: worker has exited (see ${logFile})`));
    const id = nextId++;
    return new Promise<CommandResult[C['cmd']]>((res, rej) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        rej(new Error(`${name}: ${c.cmd} timed out`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          res(v as CommandResult[C['cmd']]);
        },
        reject: (e) => {
          clearTimeout(timer);
          rej(e);
        },
      });
      child.stdin!.write(`${JSON.stringify({ ...c, id })}\n`);
    });
  };
  const stop = async () => {
    if (exited) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await send({ cmd: 'exit' }, 10_000).catch(() => child.kill('SIGTERM'));
    await done;
    clearTimeout(timer);
  };
  return { name, send, stop };
}

/**
 * `npm start`: starts the native stack and supervises it in the foreground (Ctrl-C / SIGTERM stop it): a tier
 * that exits is restarted alone with back-off; a crash loop stops the stack (scripts/stack/supervisor.ts).
 * `npm start -- --detach`: the same supervisor runs in the background; this process returns once the
 * stack is healthy (manifest written) and `npm stop` ends it.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_DIR } from './manifest.ts';
import { groupMemoryMiB } from './memory.ts';
import { TIER_UMASK, tailFile } from './process.ts';
import { startStack } from './stack.ts';
import { superviseStack } from './supervisor.ts';
import { summary } from './summary.ts';

type Report = { ok: true; text: string } | { ok: false; error: string };

async function supervise(report: (r: Report) => void): Promise<void> {
  let stack;
  try {
    stack = await startStack();
  } catch (e) {
    report({ ok: false, error: (e as Error).message });
    process.exit(1);
  }
  const memory = groupMemoryMiB(stack.services.map((s) => ({ name: s.name, pid: s.pid })));
  report({ ok: true, text: summary(stack.manifest, stack.timings.total ?? 0, memory) });
  let stopping = false;
  const shutdown = async (why: string, code: number) => {
    if (stopping) return; // tiers exiting because we stop them are not failures
    stopping = true;
    process.stderr.write(`[stack] ${why}: stopping\n`);
    await stack.stop();
    process.stderr.write('[stack] stopped\n');
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGHUP', () => undefined); // the terminal of a detached start may go away
  // The children are unref'd and signal listeners hold no loop reference: keep the supervisor alive.
  setInterval(() => undefined, 1 << 30);
  // A tier that dies is restarted alone; one that keeps dying takes the stack down (a half stack would make the proofs lie).
  superviseStack(stack, {
    log: (l) => process.stderr.write(`[stack] ${new Date().toISOString()} ${l}\n`),
    giveUp: (why) => void shutdown(why, 1),
  });
}

function detach(): void {
  const logFile = join(STACK_DIR, 'logs', 'supervisor.log');
  const fd = openSync(logFile, 'a', 0o600);
  const child = spawn(process.execPath, [import.meta.filename, '--supervise'], { detached: true, stdio: ['ignore', fd, fd, 'ipc'] });
  child.once('message', (r: Report) => {
    if (r.ok) process.stdout.write(`${r.text}\n(supervisor pid ${child.pid}, log ${logFile})\n`);
    else process.stderr.write(`[stack] start failed: ${r.error}\n`);
    child.disconnect();
    child.unref();
    process.exit(r.ok ? 0 : 1);
  });
  child.once('exit', (code) => {
    process.stderr.write(`[stack] supervisor exited (${code}) before the stack was up:\n${tailFile(logFile, 30)}\n`);
    process.exit(1);
  });
}

// The supervisor's log and everything the runner writes are its owner's alone (see state-at-rest.ts).
process.umask(TIER_UMASK);
const args = process.argv.slice(2);
if (args[args.indexOf('--runtime') + 1] === 'compose' && args.includes('--runtime')) {
  await (await import('../compose/start.ts')).startCompose(args); // compose runtime: scripts/compose/start.ts
} else if (args.includes('--detach')) {
  await import('node:fs').then((fs) => fs.mkdirSync(join(STACK_DIR, 'logs'), { recursive: true, mode: 0o700 }));
  detach();
} else if (args.includes('--supervise')) {
  await supervise((r) => process.send?.(r));
} else {
  await supervise((r) => (r.ok ? process.stdout.write(`${r.text}\n`) : process.stderr.write(`[stack] start failed: ${r.error}\n`)));
}

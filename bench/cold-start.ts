/**
 * Cold start of the native stack: the wall time of `npm start -- --detach`, which returns once every tier
 * is healthy and the manifest is written. Only measured when no stack runs (a running stack is someone
 * else's), and a stack the bench started is the only one it stops.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { ROOT } from '../scripts/stack/manifest.ts';

function npm(args: string[], logFile: string): Promise<number | null> {
  const fd = openSync(logFile, 'a');
  const child = spawn('npm', args, { cwd: ROOT, stdio: ['ignore', fd, fd] });
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
}

export async function timeColdStart(logFile: string): Promise<{ ms: number } | { error: string }> {
  const t0 = performance.now();
  const code = await npm(['start', '--', '--detach'], logFile);
  const ms = performance.now() - t0;
  return code === 0 ? { ms } : { error: `npm start exited with ${code} (see ${logFile})` };
}

export async function stopStack(logFile: string): Promise<void> {
  await npm(['stop'], logFile);
}

/**
 * Cleaning up after a runner that died without stopping its stack: every tier was spawned as the leader
 * of its own process group, so the recorded pids name whole groups. A pid is only trusted while it still
 * leads its group and runs something of this stack (pids are reused after the owner is gone).
 */
import { readFileSync } from 'node:fs';
import { ROOT } from './manifest.ts';
import { waitFor } from './process.ts';

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); // a zombie is already dead
  } catch {
    return false;
  }
};

function isOurGroupLeader(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return pgrp === pid && (cmd.includes(ROOT) || cmd.includes('mcp-security-stack') || cmd.includes('nginx'));
  } catch {
    return false;
  }
}

/** SIGKILLs the recorded process groups that still belong to the stack; resolves once they are gone. */
export async function killRecordedGroups(pids: number[]): Promise<number[]> {
  const ours = pids.filter(isOurGroupLeader);
  for (const pid of ours) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await waitFor('leftover processes to exit', async () => !ours.some(alive), { timeoutMs: 5_000, intervalMs: 100 }).catch(() => undefined);
  return ours.filter(alive);
}

/**
 * Resident memory per tier: every service runs in its own process group (kc.sh → java, nginx master →
 * workers), so a tier's footprint is the summed VmRSS of its group, read from /proc.
 */
import { readdirSync, readFileSync } from 'node:fs';

function groupOf(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state ppid pgrp ...; comm may contain spaces, so split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

function rssKiB(pid: string): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** MiB of resident memory of each named process group. */
export function groupMemoryMiB(groups: { name: string; pid: number }[]): Record<string, number> {
  const totals = new Map(groups.map((g) => [g.pid, 0]));
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const g = groupOf(pid);
    if (g !== undefined && totals.has(g)) totals.set(g, (totals.get(g) ?? 0) + rssKiB(pid));
  }
  return Object.fromEntries(groups.map((g) => [g.name, Math.round((totals.get(g.pid) ?? 0) / 1024)]));
}

/**
 * Resident memory of each tier after the load: the stack's process groups (scripts/stack/memory.ts sums a
 * group, e.g. kc.sh → java, nginx master → workers), the official HTTP server the bench started, and the
 * stdio servers (single processes, children of their workers), whose peak (VmHWM) is reported too — a
 * group's peak is not the sum of its members' peaks, so groups report current RSS only.
 */
import { readFileSync } from 'node:fs';
import { groupMemoryMiB } from '../scripts/stack/memory.ts';

export interface TierMemory {
  tier: string;
  pid: number;
  rssMiB: number;
  peakMiB: number | null;
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** `groups`: process-group leaders (summed); `single`: processes measured alone. */
export function tierMemory(groups: Record<string, number>, single: Record<string, number>): TierMemory[] {
  const g = groupMemoryMiB(Object.entries(groups).map(([name, pid]) => ({ name, pid })));
  const out: TierMemory[] = Object.entries(groups).map(([tier, pid]) => ({ tier, pid, rssMiB: g[tier] ?? 0, peakMiB: null }));
  for (const [tier, pid] of Object.entries(single)) out.push({ tier, pid, rssMiB: status(pid, 'VmRSS') ?? 0, peakMiB: status(pid, 'VmHWM') });
  return out;
}

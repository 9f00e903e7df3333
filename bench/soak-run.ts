/**
 * One soak run against a running stack, end to end: register the identities, start the RSS sampler, drive the
 * callers, count the audit logs, remove the identities. Shared by `npm run soak` (bench/soak.ts) and the scaled-down
 * stack test (tests/security/soak.test.ts); `problems` is what either treats as a failure.
 */
import { keycloakAdmin } from '../tests/harness/keycloak-admin.ts';
import type { StackManifest } from '../tests/harness/manifest.ts';
import { countAudit, type AuditCounts } from './soak-audit.ts';
import { soakIdentities } from './soak-identities.ts';
import { runSoak, type SoakCounts, type SoakOptions } from './soak-load.ts';
import { sampleRss, trends, type RssSample, type TierTrend } from './soak-rss.ts';

/** At most this many callers share one identity: maxConcurrentRequestsPerCaller's default, so no caller waits for another. */
export const CALLERS_PER_IDENTITY = 4;

export interface SoakResult {
  options: Omit<SoakOptions, 'onProgress'>;
  identities: { name: string; kind: string; route: string }[];
  counts: SoakCounts;
  audit: AuditCounts;
  rss: { everyMs: number; samples: RssSample[]; trend: TierTrend[]; restarts: Record<string, number[]> };
  problems: string[];
}

export async function soakRun(m: StackManifest, o: SoakOptions & { rssEveryMs: number; log?: (l: string) => void }): Promise<SoakResult> {
  const api = await keycloakAdmin(m);
  if (!api) throw new Error('the soak registers its agents through the Keycloak admin API: the manifest names no Keycloak listener (compose)');
  const log = o.log ?? (() => undefined);
  const realm = await soakIdentities(m, api, Math.ceil(o.callers / CALLERS_PER_IDENTITY));
  log(
    `${realm.identities.length} identities (${realm.identities.filter((i) => i.kind === 'user').length} users, ${realm.identities.filter((i) => i.kind === 'agent').length} client-credential agents registered for the run)`,
  );
  let done = 0;
  const rss = sampleRss(o.rssEveryMs, () => done);
  let counts: SoakCounts;
  try {
    counts = await runSoak(m, realm.identities, {
      ...o,
      onProgress: (n) => {
        done = n;
        o.onProgress?.(n);
      },
    });
    done = counts.ok;
  } finally {
    await rss.stop();
    await realm.remove();
  }
  const audit = await countAudit(m, counts);
  const trend = trends(rss.samples);
  const { onProgress: _p, log: _l, rssEveryMs, ...options } = o;
  const result: SoakResult = {
    options,
    identities: realm.identities.map(({ name, kind, route }) => ({ name, kind, route })),
    counts,
    audit,
    rss: { everyMs: rssEveryMs, samples: rss.samples, trend, restarts: rss.restarts },
    problems: [],
  };
  result.problems = problemsOf(result);
  return result;
}

/** Everything that makes a run fail: an unexpected error, a caller short of its calls, an audit count off, a restart. */
export function problemsOf(r: Pick<SoakResult, 'options' | 'counts' | 'audit' | 'rss'>): string[] {
  const p: string[] = [];
  const { counts: c, audit: a } = r;
  for (const [kind, n] of Object.entries(c.errors)) p.push(`${n} × ${kind}`);
  const short = c.perCaller.filter((n) => n !== r.options.calls).length;
  // Stopped by the time budget, a caller is short by design; the calls it made still count.
  if (short && !c.stoppedByBudget) p.push(`${short} callers short of ${r.options.calls} calls`);
  if (a.verifierTotal !== c.pastEdgeLimiter) p.push(`verifier records ${a.verifierTotal} ≠ requests past the edge limiter ${c.pastEdgeLimiter}`);
  if (a.toolCalls !== c.toolCallsAnswered) p.push(`MCP tool_call records ${a.toolCalls} ≠ answered tools/call ${c.toolCallsAnswered}`);
  if (a.httpRefused !== c.mcpRefusedInSession) p.push(`MCP http_refused records ${a.httpRefused} ≠ MCP refusals in a session ${c.mcpRefusedInSession}`);
  for (const [tier, pids] of Object.entries(r.rss.restarts)) p.push(`${tier} restarted during the run (pids ${pids.join(' → ')})`);
  return p;
}

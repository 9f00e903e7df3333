/**
 * The soak, scaled down (issue #16): 64 concurrent callers × 100 calls through the edge with real tokens of 16
 * identities (the realm's two users and 14 client-credential agents registered for the run), under the stack's
 * production quotas and edge limits. Proves no call fails but for quota refusals (counted apart, retried), and that
 * both audit tiers hold exactly one record per request: the verifier one per request past the edge's limiter, the
 * MCP servers one per answered tools/call and per refusal. RSS per tier is sampled and reported, never asserted
 * (the full 64 × 10,000 run and its plot: `npm run soak`, bench/soak.ts).
 */
import { describe, expect, inject, it } from 'vitest';
import { soakRun } from '../../bench/soak-run.ts';
import { recordProof } from '../harness/proof.ts';
import { waitForHealthyStack } from '../harness/stack-health.ts';

const m = inject('manifest');
const CALLERS = 64;
const CALLS = 100;
// Under the edge's per-IP limit (200 r/s, all from this one address): the run measures the stack, not the limiter.
const RATE = 150;

describe('the soak, scaled down', () => {
  it('serves 64 concurrent callers × 100 calls with no error but quota refusals, and audits every request exactly once on both tiers', async (ctx) => {
    if (!m.keycloakInternalUrl)
      return ctx.skip('the soak registers its agents through the Keycloak admin API, which only the native runtime exposes to the host');
    const r = await soakRun(m, {
      callers: CALLERS,
      calls: CALLS,
      rate: RATE,
      rssEveryMs: 1_000,
      tool: { name: 'list-collections', arguments: { database: m.database.name } },
    });
    const c = r.counts;
    expect(r.identities.length).toBe(16);
    expect(c.errors).toEqual({});
    expect(c.perCaller).toEqual(Array.from({ length: CALLERS }, () => CALLS));
    expect(c.ok).toBe(CALLERS * CALLS);
    expect(c.sessions.ro.length + c.sessions.rw.length).toBe(CALLERS);
    expect(r.audit.verifierTotal).toBe(c.pastEdgeLimiter);
    expect(r.audit.verifier).toEqual({ 'accept ok': c.pastEdgeLimiter });
    expect(r.audit.toolCalls).toBe(c.toolCallsAnswered);
    expect(r.audit.httpRefused).toBe(c.mcpRefusedInSession);
    expect(r.rss.restarts).toEqual({});
    expect(r.problems).toEqual([]);
    const rss = r.rss.trend.map((t) => `${t.tier} ${t.startMiB}→${t.endMiB}`).join(', ');
    recordProof(ctx, {
      attack: `${CALLERS} concurrent callers (16 identities: 2 users, 14 client-credential agents; both routes) × ${CALLS} list-collections through the edge at ${RATE} calls/s, production quotas`,
      expected:
        'zero errors but quota refusals (counted apart, retried); verifier records == requests past the edge limiter; MCP tool_call records == answered calls on both servers; no tier restarted',
      observed: `${c.ok} calls ok in ${(c.elapsedMs / 1000).toFixed(1)} s, errors 0, quota refusals ${JSON.stringify(c.quota)}; verifier ${r.audit.verifierTotal} = ${c.pastEdgeLimiter} requests; MCP tool_call ${r.audit.toolCalls} = ${c.toolCallsAnswered} (ro ${r.audit.mcp.ro['tool_call ok'] ?? 0}, rw ${r.audit.mcp.rw['tool_call ok'] ?? 0}); RSS MiB ${rss}`,
    });
    await waitForHealthyStack('the stack serving after the soak');
  }, 240_000);
});

/**
 * `npm run soak -- --callers 64 --calls 10000` (issue #16): concurrent callers through the edge with real tokens
 * of several identities, each calling a tool back to back; then the audit logs of both tiers counted against the
 * calls, and the RSS of every tier over the run. Writes bench/results/soak-<timestamp>.json and an RSS plot
 * (bench/results/soak-rss.png, or --plot <file>). Exit 1 on any unexpected error or audit mismatch.
 *
 * Without a running stack it starts one for the run (and stops it after) with the edge's per-IP rate limit raised:
 * the load comes from one address, and at the production 200 r/s its own limit would be what the run measures.
 * The MCP servers keep their production quotas (the callers are spread over identities to fit them); any quota
 * refusal is counted apart and retried. Attached to a running stack, whatever limits it has are used.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { MANIFEST_PATH, readManifest } from '../tests/harness/manifest.ts';
import { writePng } from './chart.ts';
import { stopStack, timeColdStart } from './cold-start.ts';
import { rssSvg } from './soak-chart.ts';
import { soakRun } from './soak-run.ts';

const log = (s: string) => process.stderr.write(`[soak] ${new Date().toISOString().slice(11, 19)} ${s}\n`);
const { values: v } = parseArgs({
  args: process.argv.slice(2),
  options: {
    callers: { type: 'string', default: '64' },
    calls: { type: 'string', default: '10000' },
    tool: { type: 'string', default: 'list-collections' },
    rate: { type: 'string', default: '0' },
    rssEvery: { type: 'string', default: '5' },
    budgetMin: { type: 'string', default: '0' },
    plot: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (v.help) {
  process.stdout.write(`usage: npm run soak -- [--callers 64] [--calls 10000] [--tool list-collections|count] [--rate 0] [--rssEvery 5] [--plot docs/img/soak-rss.png]
  --rate       calls per second over all callers (0: as fast as the stack answers)
  --rssEvery   seconds between RSS samples
  --budgetMin  minutes after which callers start no new call (0: none); the run reports what it made\n`);
  process.exit(0);
}
const callers = Number(v.callers),
  calls = Number(v.calls),
  rate = Number(v.rate),
  rssEveryMs = Number(v.rssEvery) * 1000,
  budgetMs = Number(v.budgetMin) * 60_000;
if (![callers, calls].every((n) => Number.isInteger(n) && n > 0) || !(rate >= 0) || !(rssEveryMs >= 100) || !(budgetMs >= 0)) {
  log('--callers and --calls must be positive integers, --rate ≥ 0, --rssEvery ≥ 0.1, --budgetMin ≥ 0');
  process.exit(2);
}
const resultsDir = resolve(import.meta.dirname, 'results');
mkdirSync(resultsDir, { recursive: true });

let ours = false;
if (!existsSync(MANIFEST_PATH)) {
  // Only the edge's per-IP limit: the whole run comes from this one address.
  Object.assign(process.env, { EDGE_RATE_LIMIT: '100000r/s', EDGE_RATE_BURST: '100000' });
  log('no stack running: starting one for this run (npm start -- --detach, EDGE_RATE_LIMIT=100000r/s)');
  const started = await timeColdStart(resolve(resultsDir, 'soak-stack.log'));
  if (!('ms' in started)) {
    log(`stack start failed: ${started.error}`);
    process.exit(1);
  }
  ours = true;
  log(`stack up in ${(started.ms / 1000).toFixed(1)} s`);
}
const m = await readManifest({ requireHealthy: true });
if (!m) {
  log('no healthy stack (.stack/manifest.json)');
  process.exit(1);
}

const tools: Record<string, { name: string; arguments: Record<string, unknown> }> = {
  'list-collections': { name: 'list-collections', arguments: { database: m.database.name } },
  count: { name: 'count', arguments: { database: m.database.name, collection: 'orders', query: { status: 'shipped' } } },
};
const tool = tools[v.tool!];
if (!tool) {
  log(`--tool: one of ${Object.keys(tools).join(', ')}`);
  process.exit(2);
}

const startedAt = new Date().toISOString();
const loadAtStart = loadavg();
const total = callers * calls;
let last = { t: performance.now(), n: 0 };
let exitCode = 1;
try {
  log(`${callers} callers × ${calls} calls of ${tool.name} (${total} calls)${rate ? ` at ${rate}/s` : ''}`);
  const result = await soakRun(m, {
    callers,
    calls,
    tool,
    rate,
    rssEveryMs,
    log,
    ...(budgetMs ? { budgetMs } : {}),
    onProgress: (n) => {
      const now = performance.now();
      if (now - last.t < 10_000) return;
      log(`${n}/${total} calls (${(((n - last.n) * 1000) / (now - last.t)).toFixed(0)}/s)`);
      last = { t: now, n };
    },
  });
  const stamp = startedAt.replace(/[:.]/g, '-');
  const jsonFile = resolve(resultsDir, `soak-${stamp}.json`);
  writeFileSync(
    jsonFile,
    `${JSON.stringify({ startedAt, loadAtStart, cpus: cpus().length, stackStartedByRun: ours, edgeRateLimit: ours ? process.env.EDGE_RATE_LIMIT : 'as configured', database: m.database.kind, isolation: m.isolation, ...result }, null, 2)}\n`,
  );
  const png = resolve(v.plot ?? resolve(resultsDir, 'soak-rss.png'));
  const c = result.counts;
  writePng(
    rssSvg(
      result.rss.samples,
      result.rss.trend,
      `Soak: ${callers} callers × ${calls} ${tool.name} through the edge — ${c.ok} calls in ${(c.elapsedMs / 60_000).toFixed(1)} min`,
    ),
    png,
  );
  const lines = [
    ...(c.stoppedByBudget
      ? [
          `STOPPED BY THE TIME BUDGET (${v.budgetMin} min): ${c.ok} of the ${total} calls planned were made (per caller ${Math.min(...c.perCaller)}–${Math.max(...c.perCaller)})`,
        ]
      : []),
    `calls ok ${c.ok}/${total} in ${(c.elapsedMs / 1000).toFixed(0)} s (${((c.ok * 1000) / c.elapsedMs).toFixed(0)}/s), latency p50 ${c.latencyMs.p50.toFixed(1)} ms, p99 ${c.latencyMs.p99.toFixed(1)} ms, max ${c.latencyMs.max.toFixed(0)} ms`,
    `errors: ${JSON.stringify(c.errors)}; quota refusals (retried): ${JSON.stringify(c.quota)}`,
    `identities: ${result.identities.length} (${result.identities.map((i) => `${i.name}/${i.route}`).join(', ')})`,
    `requests ${c.requests}, past the edge limiter ${c.pastEdgeLimiter}; verifier records ${result.audit.verifierTotal} ${JSON.stringify(result.audit.verifier)}`,
    `answered tools/call ${c.toolCallsAnswered}; MCP tool_call records ${result.audit.toolCalls} (ro ${JSON.stringify(result.audit.mcp.ro)}, rw ${JSON.stringify(result.audit.mcp.rw)}); MCP refusals in a session ${c.mcpRefusedInSession}, http_refused records ${result.audit.httpRefused}`,
    'RSS MiB (start → once warm → end, growth after warm-up):',
    ...result.rss.trend.map(
      (t) =>
        `  ${t.tier.padEnd(12)} ${t.startMiB} → ${t.afterWarmupMiB} → ${t.endMiB} (max ${t.maxMiB}; ${t.growthMiB >= 0 ? '+' : ''}${t.growthMiB} MiB, ${t.growthPct}%)`,
    ),
    result.problems.length ? `PROBLEMS:\n  ${result.problems.join('\n  ')}` : 'no unexpected error; audit counts exact on both tiers; no tier restarted',
    `results: ${jsonFile}\nplot:    ${png}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  exitCode = result.problems.length ? 1 : 0;
} catch (e) {
  log(`soak failed: ${(e as Error).stack ?? String(e)}`);
} finally {
  if (ours) {
    log('stopping the stack this run started');
    await stopStack(resolve(resultsDir, 'soak-stack.log'));
  }
}
process.exit(exitCode);

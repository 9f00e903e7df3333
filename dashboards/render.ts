/**
 * docs/img/observability.png: the panels of dashboards/mcp-stack.json drawn from a real run — a load of
 * tools/calls, refusals, step-ups and sessions through the edge of the running stack (`npm start`), scraped
 * from the tiers' loopback listeners every SCRAPE_S seconds, as Prometheus would. Drawn as SVG and rasterised
 * by bench/chart.ts's writePng (resvg), like the benchmark charts.
 *
 *   npm start && node dashboards/render.ts [seconds=60]; npm stop
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { readManifest, type StackManifest } from '../tests/harness/manifest.ts';
import { serviceAgentToken, userToken } from '../tests/harness/tokens.ts';
import { connectMcp } from '../tests/harness/mcp.ts';
import { rawRequest } from '../tests/harness/http.ts';
import { run } from '../scripts/stack/process.ts';
import { writePng } from '../bench/chart.ts';
import { cell, esc, gridHeight, niceCeil, svgPage, type Grid } from '../bench/svg.ts';
import { byLabel, samples } from './prom-text.ts';

const SECONDS = Number(process.argv[2] ?? 60);
const SCRAPE_S = 2;
const OUT = resolve(import.meta.dirname, '../docs/img/observability.png');

const m = await readManifest({ requireHealthy: true });
if (!m) throw new Error('no running stack: npm start first');
const manifest: StackManifest = m;

const scrape = (name: keyof StackManifest['metrics']): Promise<string> =>
  run('curl', ['-s', '--max-time', '5', manifest.metrics[name].url], { netns: manifest.metrics[name].netns });

// ---- load: two callers (a service agent, a user), two sessions each; every 10th call a write on /mcp ----
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = Date.now() + SECONDS * 1000;
const db = manifest.database.name;
// Light reads: the sample database is FerretDB natively, where a full-collection count or $group takes seconds.
const CALLS = [
  { name: 'find', arguments: { database: db, collection: 'orders', filter: { status: 'shipped' }, limit: 5 } },
  { name: 'list-collections', arguments: { database: db } },
  { name: 'aggregate', arguments: { database: db, collection: 'orders', pipeline: [{ $limit: 20 }, { $project: { status: 1 } }] } },
  { name: 'find', arguments: { database: db, collection: 'customers', limit: 3 } },
];

async function worker(token: string, pauseMs: number): Promise<void> {
  let i = 0;
  while (Date.now() < until) {
    // A session lives for 25 calls, so sessions open and close during the run.
    const s = await connectMcp(manifest, manifest.resources.readOnly, token).catch(() => undefined);
    if (!s) {
      await sleep(500);
      continue;
    }
    for (let n = 0; n < 25 && Date.now() < until; n++, i++) {
      const call = i % 10 === 9 ? { name: 'insert-many', arguments: { database: db, collection: 'orders', documents: [{ x: 1 }] } } : CALLS[i % CALLS.length]!;
      await s.client.callTool(call).catch(() => undefined);
      await sleep(pauseMs);
    }
    await s.close().catch(() => undefined);
  }
}

/** What agents without the right token do: no token at all, and a read token at the read-write resource. */
async function refusals(readToken: string): Promise<void> {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  for (let i = 0; Date.now() < until; i++) {
    const t = (Date.now() - (until - SECONDS * 1000)) / 1000;
    // A burst of step-ups in the middle third: the panel should show them as an event, not a flat line.
    const stepUps = t > SECONDS / 3 && t < (2 * SECONDS) / 3 ? 4 : 1;
    for (let k = 0; k < stepUps; k++)
      await rawRequest(manifest, {
        method: 'POST',
        path: new URL(manifest.resources.readWrite).pathname,
        headers: { ...headers, authorization: `Bearer ${readToken}` },
        body: '{}',
      });
    if (i % 2 === 0) await rawRequest(manifest, { method: 'POST', path: new URL(manifest.resources.readOnly).pathname, headers, body: '{}' });
    await sleep(400);
  }
}

// ---- scrape loop ----
interface Point {
  t: number;
  ro: string;
  verifier: string;
}
const points: Point[] = [];
async function scraper(): Promise<void> {
  const t0 = Date.now();
  while (Date.now() < until + SCRAPE_S * 1000) {
    points.push({ t: (Date.now() - t0) / 1000, ro: await scrape('mcpReadOnly'), verifier: await scrape('verifier') });
    await sleep(SCRAPE_S * 1000);
  }
}

const service = (await serviceAgentToken(manifest)).access_token;
const analyst = (await userToken(manifest, 'analyst', 'mcp:read')).access_token;
process.stderr.write(`load for ${SECONDS} s against ${manifest.edgeUrl}\n`);
await Promise.all([scraper(), worker(service, 40), worker(service, 60), worker(analyst, 50), worker(analyst, 80), refusals(service)]);

// ---- series: per-interval rates and quantiles, as rate() and histogram_quantile() would give ----
type Series = Map<string, [number, number][]>;
const add = (s: Series, key: string, t: number, v: number) => void (s.get(key) ?? s.set(key, []).get(key)!).push([t, v]);

function quantile(q: number, buckets: [number, number][]): number {
  const totalCount = buckets.at(-1)?.[1] ?? 0;
  if (totalCount <= 0) return NaN;
  let prevLe = 0,
    prevCount = 0;
  for (const [le, count] of buckets) {
    if (count >= q * totalCount) return le === Infinity ? prevLe : prevLe + ((q * totalCount - prevCount) / Math.max(count - prevCount, 1e-9)) * (le - prevLe);
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

const calls: Series = new Map(),
  latency: Series = new Map(),
  refused: Series = new Map(),
  stepUps: Series = new Map(),
  sessions: Series = new Map(),
  accepted: Series = new Map();
for (let i = 1; i < points.length; i++) {
  const a = points[i - 1]!,
    b = points[i]!,
    dt = b.t - a.t,
    t = b.t;
  const rate = (from: Map<string, number>, to: Map<string, number>, out: Series, prefix = '', only?: (k: string) => boolean) => {
    for (const [k, v] of to) if (!only || only(k)) add(out, prefix + k, t, Math.max(0, v - (from.get(k) ?? 0)) / dt);
  };
  rate(byLabel(a.ro, 'mcp_tool_execution_duration_seconds_count', 'tool_name'), byLabel(b.ro, 'mcp_tool_execution_duration_seconds_count', 'tool_name'), calls);
  const le = (text: string) => byLabel(text, 'mcp_tool_execution_duration_seconds_bucket', 'le');
  const from = le(a.ro),
    to = le(b.ro);
  const buckets = [...to].map(([k, v]) => [k === '+Inf' ? Infinity : Number(k), v - (from.get(k) ?? 0)] as [number, number]).sort((x, y) => x[0] - y[0]);
  for (const q of [0.5, 0.95, 0.99]) add(latency, `p${q * 100}`, t, quantile(q, buckets) * 1000);
  rate(byLabel(a.ro, 'mcp_refusals_total', 'code'), byLabel(b.ro, 'mcp_refusals_total', 'code'), refused, 'mcp ');
  rate(
    byLabel(a.verifier, 'verifier_decisions_total', 'code', { outcome: 'refuse' }),
    byLabel(b.verifier, 'verifier_decisions_total', 'code', { outcome: 'refuse' }),
    refused,
    'edge ',
    (k) => k !== 'missing_scope' && k !== 'missing_role',
  );
  rate(
    byLabel(a.verifier, 'verifier_decisions_total', 'code', { outcome: 'refuse' }),
    byLabel(b.verifier, 'verifier_decisions_total', 'code', { outcome: 'refuse' }),
    stepUps,
    '',
    (k) => k === 'missing_scope' || k === 'missing_role' || k === 'write_tool_on_read_route',
  );
  rate(
    byLabel(a.verifier, 'verifier_decisions_total', 'cached', { outcome: 'accept' }),
    byLabel(b.verifier, 'verifier_decisions_total', 'cached', { outcome: 'accept' }),
    accepted,
    'cached token: ',
  );
  add(
    sessions,
    'active (mcp-ro)',
    t,
    samples(b.ro)
      .filter((s) => s.name === 'mcp_active_sessions')
      .reduce((x, s) => x + s.value, 0),
  );
}

// ---- drawing: small multiples, one panel per dashboard row ----
const W = 1200;
const GRID: Grid = { cols: 3, left: 45, top: 70, panelW: 350, panelH: 200, gapX: 40, gapY: 95 };
const { panelW: PW, panelH: PH } = GRID;
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function panel(i: number, title: string, unit: string, s: Series): string {
  const { x0, y0 } = cell(GRID, i);
  const all = [...s.values()].flat().filter(([, v]) => Number.isFinite(v));
  const tMax = Math.max(1, ...all.map(([t]) => t)),
    yMax = niceCeil(Math.max(1e-6, ...all.map(([, v]) => v)) * 1.1);
  const x = (t: number) => x0 + (t / tMax) * PW,
    y = (v: number) => y0 + PH - (v / yMax) * PH;
  const out = [
    `<text x="${x0}" y="${y0 - 10}" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${PW}" height="${PH}" fill="#fafafa" stroke="#ccc"/>`,
  ];
  for (const f of [0, 0.5, 1]) {
    out.push(`<line x1="${x0}" x2="${x0 + PW}" y1="${y(yMax * f)}" y2="${y(yMax * f)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x0 - 4}" y="${y(yMax * f) + 4}" font-size="10" text-anchor="end">${+(yMax * f).toPrecision(3)}</text>`);
  }
  out.push(
    `<text x="${x0 + PW}" y="${y0 + PH + 14}" font-size="10" text-anchor="end">${tMax.toFixed(0)} s</text><text x="${x0}" y="${y0 + PH + 14}" font-size="10">0</text>`,
  );
  out.push(`<text x="${x0 + PW / 2}" y="${y0 + PH + 14}" font-size="10" text-anchor="middle" fill="#555">${esc(unit)}</text>`);
  [...s.entries()]
    .filter(([, pts]) => pts.some(([, v]) => v > 0))
    .slice(0, 8)
    .forEach(([key, pts], k) => {
      const d = pts
        .filter(([, v]) => Number.isFinite(v))
        .map(([t, v], j) => `${j ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`)
        .join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${PALETTE[k % PALETTE.length]}" stroke-width="2"/>`);
      const lx = x0 + (k % 2) * (PW / 2),
        ly = y0 + PH + 30 + Math.floor(k / 2) * 14;
      out.push(
        `<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${PALETTE[k % PALETTE.length]}"/><text x="${lx + 14}" y="${ly}" font-size="11">${esc(key)}</text>`,
      );
    });
  return out.join('\n');
}

const totalCalls = [...calls.values()].flat().reduce((a, [, v]) => a + v * SCRAPE_S, 0);
const panels = [
  panel(0, 'Tool calls per second (mcp-ro)', 'calls/s by tool_name', calls),
  panel(1, 'Tool latency (mcp-ro)', 'ms (histogram quantiles)', latency),
  panel(2, 'Refusals per second, by code', 'mcp: server codes · edge: verifier reasons', refused),
  panel(3, 'Step-up challenges (403 insufficient_scope)', 'per second, by reason', stepUps),
  panel(4, 'Sessions', 'mcp_active_sessions', sessions),
  panel(5, 'Verifier: tokens accepted per second', 'per second (cache: verified-token cache hit)', accepted),
];
const svg = svgPage(
  W,
  gridHeight(GRID, panels.length, 10),
  `MongoDB MCP security stack — dashboards/mcp-stack.json panels from a real ${SECONDS} s run`,
  `${manifest.runtime} stack, ${Math.round(totalCalls)} tool calls through the edge by 2 callers; scraped every ${SCRAPE_S} s from the loopback listeners in the edge netns`,
  panels,
);
mkdirSync(resolve(OUT, '..'), { recursive: true });
writePng(svg, OUT);
process.stderr.write(`wrote ${OUT} (${points.length} scrapes)\n`);

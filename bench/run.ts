/**
 * `npm run bench`: what security costs (GitHub issue #7). Measures find / aggregate / list-collections on
 * every path to the same data — raw driver, our server direct (HTTP and stdio), the full secure path, and
 * the official server — and prints a table, bench/results/<timestamp>.json and bench/results/latency.png.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { readManifest, MANIFEST_PATH } from '../tests/harness/manifest.ts';
import { latencySvg, writePng } from './chart.ts';
import { stopStack, timeColdStart } from './cold-start.ts';
import { cellKey, measure } from './measure.ts';
import { tierMemory } from './memory.ts';
import { startOfficialHttp, type OfficialHttp } from './official.ts';
import type { Operation } from './operations.ts';
import { parseOptions } from './options.ts';
import { benchPaths, type PathId } from './paths.ts';
import { writeRecord, NOTES, type RunRecord } from './results.ts';
import { summarize, type Summary } from './stats.ts';
import { latencyTable, targetTable } from './table.ts';
import { evaluateTargets } from './targets-check.ts';
import { cacheHitRate, verifierRate } from './verifier-rate.ts';
import { policyBench, policyLine } from './policy.ts';
import { startWorker, type WorkerHandle } from './worker-client.ts';

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const opts = parseOptions(process.argv.slice(2));
const startedAt = new Date().toISOString();
const loadAtStart = loadavg();
const resultsDir = resolve(import.meta.dirname, 'results');
const logsDir = resolve(resultsDir, 'logs');
mkdirSync(logsDir, { recursive: true });

let coldStart: RunRecord['coldStart'];
let weStartedStack = false;
if (opts.coldStart) {
  if (existsSync(MANIFEST_PATH)) coldStart = { skipped: 'a stack was already running (not ours to restart); stop it to time a cold start' };
  else {
    log('cold start: npm start -- --detach');
    coldStart = await timeColdStart(resolve(logsDir, 'cold-start.log'));
    weStartedStack = 'ms' in coldStart;
  }
}
const m = await readManifest({ requireHealthy: true });
if (!m) {
  log('no healthy stack (.stack/manifest.json): run `npm start -- --detach` first, or pass --coldStart');
  process.exit(1);
}

// The stack we measure is the one whose pids we read now; a restart in between is another stack.
const stackId = JSON.stringify(m.pids ?? {});
const stackAlive = () => {
  try {
    return JSON.stringify((JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as typeof m).pids ?? {}) === stackId;
  } catch {
    return false;
  }
};

let official: OfficialHttp | undefined;
const workers = new Map<PathId, WorkerHandle>();
const cleanup = async () => {
  await Promise.all([...workers.values()].map((w) => w.stop()));
  await official?.service.stop();
  if (weStartedStack) await stopStack(resolve(logsDir, 'cold-start.log'));
};
// Ctrl-C or a `timeout` must not leave the official server or workers behind (they would hold the port).
for (const [sig, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)
  process.once(sig, () => void cleanup().finally(() => process.exit(code)));

try {
  const wanted = (id: PathId) => !opts.paths || opts.paths.includes(id);
  let officialError: string | undefined;
  if (wanted('official-http')) {
    official = await startOfficialHttp({
      port: opts.officialPort,
      netns: m.direct.netns,
      uriFile: resolve(m.secretsDir, 'mcp_ro_uri'),
      logFile: resolve(logsDir, 'official-http.log'),
    }).catch((e: Error) => {
      officialError = e.message.split('\n')[0];
      return undefined;
    });
  }
  const paths = benchPaths(m, { officialHttpUrl: official?.url, logsDir }).filter((p) => wanted(p.id));
  for (const p of paths) workers.set(p.id, startWorker(p.id, p.spec, p.netns, resolve(logsDir, `worker-${p.id}.log`)));

  // Every path must answer with real data before it is timed (a fast error is not a fast path).
  const probes: Record<string, unknown> = {};
  for (const p of paths) {
    const w = workers.get(p.id)!;
    try {
      await w.send({ cmd: 'open', concurrency: 1, callTimeoutMs: opts.callTimeoutMs });
      probes[p.id] = await w.send({ cmd: 'probe' });
      await w.send({ cmd: 'close' });
    } catch (e) {
      probes[p.id] = { error: (e as Error).message };
      await w.stop();
      workers.delete(p.id);
    }
  }
  log(`probes: ${JSON.stringify(probes)}`);
  if (!stackAlive()) throw new Error('the stack stopped or restarted during the probes: nothing measured');
  log(`measuring ${paths.length} paths × 3 operations × concurrency ${opts.concurrencies.join('/')}, ${opts.rounds} round(s)`);
  const measurement = await measure(paths, workers, opts, log, stackAlive);
  for (const p of paths) if (!workers.has(p.id)) measurement.failures.set(p.id, `probe failed: ${JSON.stringify(probes[p.id])}`);
  if (officialError) measurement.failures.set('official-http', officialError);

  const stdioPids: Record<string, number> = {};
  for (const [id, w] of workers) for (const pid of await w.send({ cmd: 'pids' }).catch(() => [])) stdioPids[`${id} server`] = pid;
  const groups: Record<string, number> = { ...(m.pids ?? {}), ...(official ? { 'official-http': official.service.pid } : {}) };
  const memory = tierMemory(groups, stdioPids);

  log('verifier: validations/s on one core');
  const verifier = await verifierRate(m, opts.verifierMs).catch((e: Error) => ({ error: e.message }));

  const tokenCache = cacheHitRate(m.auditLog.verifier, startedAt);
  log('policy: evaluation per tools/call (in process, issue #13)');
  const policy = policyBench();

  const summaries = new Map<string, Summary>([...measurement.cells].map(([k, s]) => [k, summarize(s)]));
  const get = (p: PathId, op: Operation, c: number) => summaries.get(cellKey(p, op, c));
  const targets = evaluateTargets(get, opts.concurrencies, 'error' in verifier ? undefined : verifier);

  const stamp = startedAt.replace(/[:.]/g, '-');
  const jsonFile = resolve(resultsDir, `${stamp}.json`);
  writeRecord(jsonFile, { startedAt, loadAtStart, options: opts, manifest: m, paths, probes, measurement, verifier, tokenCache, memory, coldStart, targets });
  const pngFile = resolve(resultsDir, 'latency.png');
  writePng(
    latencySvg(paths, get, `MCP latency by path — ${m.database.kind}, ${m.isolation}, ${opts.quick ? 'quick run' : `${measurement.roundsCompleted} rounds`}`),
    pngFile,
  );

  const out: string[] = [latencyTable(paths, opts.concurrencies, get), targetTable(targets)];
  out.push(
    '\nverifier: ' +
      ('error' in verifier
        ? verifier.error
        : `${verifier.perCpuSecond.toFixed(0)} validations per CPU-second (${verifier.wallPerSecond.toFixed(0)}/s wall, ${verifier.alg}, ${verifier.validations} validations); a result-cache hit: ${verifier.cachedPerCpuSecond.toFixed(0)} per CPU-second (${(verifier.cachedPerCpuSecond / Math.max(1, verifier.perCpuSecond)).toFixed(0)}× cheaper)`),
  );
  out.push(
    `verifier result cache on the secure path this run: ${tokenCache ? `${(tokenCache.hitRate * 100).toFixed(2)}% hits (${tokenCache.cached}/${tokenCache.accepts} accepts; one agent token shared by every session)` : 'no accept records (secure path not measured, or the verifier audit log is unreadable)'}`,
  );
  out.push(
    `load generator: gen µs = its CPU per call, gen core = its share of one core (stdio rows: the worker only, not the server it spawned); load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  out.push(policyLine(policy));
  out.push(
    'memory (RSS MiB after the load; process group, or process and its peak): ' +
      memory.map((t) => `${t.tier} ${t.rssMiB}${t.peakMiB !== null ? ` (peak ${t.peakMiB})` : ''}`).join(', '),
  );
  if (coldStart)
    out.push(`cold start: ${'ms' in coldStart ? `${(coldStart.ms / 1000).toFixed(1)} s` : 'error' in coldStart ? coldStart.error : coldStart.skipped}`);
  if (measurement.aborted) out.push(`RUN ABORTED: ${measurement.aborted} — the numbers above are partial`);
  for (const [id, why] of measurement.failures) out.push(`not measured / stopped: ${id}: ${why}`);
  out.push(...NOTES.map((n) => `note: ${n}`), `\nresults: ${jsonFile}\nchart:   ${pngFile}`);
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await cleanup();
}

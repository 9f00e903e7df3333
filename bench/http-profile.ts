/**
 * Where the direct HTTP path spends its time (issue #15), without the running stack: starts its own database
 * and one read-only server over HTTP with the proxy secret, then drives N concurrent sessions (JSON-RPC by
 * hand, keep-alive) and the raw driver with the same N clients, interleaved, and reports for each: calls/s,
 * p50, and CPU per call of the server, the database and this load generator (from /proc), so a cost can be
 * put on the tier that pays it.
 *
 *   npx node bench/http-profile.ts [--clients 16] [--seconds 4] [--rounds 3] [--op list-collections] [--cpu-prof] [--entry main.ts] [--baseline other/main.ts]
 *
 * `--baseline` runs a second server (another copy of the code, e.g. `git archive HEAD server | tar -x -C /tmp/base`)
 * against the same database, its phases interleaved with ours: on a shared machine only a same-run A/B is a
 * comparison.
 * `--cpu-prof` writes the server's V8 profile into the work directory (printed at the end; summarise it with
 * `node bench/cpu-profile-top.ts <file>`). Ports 34781/34782; secrets stay in 0600 files in the work dir.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { startDatabase } from '../scripts/stack/database.ts';
import { httpOk, startService, waitFor, type Service } from '../scripts/stack/process.ts';
import { runLoad, type Call } from './load.ts';
import { driverCall, toolCall, type Operation } from './operations.ts';
import { openRawSession, rawAgent, type RawSession } from './raw-mcp.ts';
import { BENCH_MACHINE } from './targets.ts';
import { percentile, summarize } from './stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: {
    clients: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    op: { type: 'string', default: 'list-collections' },
    'cpu-prof': { type: 'boolean', default: false },
    entry: { type: 'string', default: join(ROOT, 'server/src/main.ts') },
    baseline: { type: 'string' },
  },
});
const CLIENTS = Number(opts.clients);
const PHASE_MS = Number(opts.seconds) * 1000;
const OP = opts.op as Operation;
const [DB_PORT, MCP_PORT, BASE_PORT] = [34_781, 34_782, 34_783];
const TICK_MS = 10; // USER_HZ = 100 on Linux

/** utime + stime of a process and its threads, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const dir = mkdtempSync(join(tmpdir(), 'mcp-http-profile-'));
const db = await startDatabase({ dir, port: DB_PORT, log: (l) => process.stderr.write(`[db] ${l}\n`) });
const secret = randomBytes(24).toString('hex');
writeFileSync(join(dir, 'proxy_secret'), secret, { mode: 0o600 });
writeFileSync(join(dir, 'ro_uri'), db.readerUri, { mode: 0o600 });
const startServer = (name: string, entry: string, port: number, prof: boolean) =>
  startService({
    name,
    command: process.execPath,
    cwd: ROOT,
    logFile: join(dir, `${name}.log`),
    args: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`] : []), resolve(entry)],
    env: {
      MDB_MCP_TRANSPORT: 'http',
      MDB_MCP_HTTP_HOST: '127.0.0.1',
      MDB_MCP_HTTP_PORT: String(port),
      MDB_MCP_READ_ONLY: 'true',
      MDB_MCP_CONNECTION_STRING_FILE: join(dir, 'ro_uri'),
      MDB_MCP_PROXY_SECRET_FILE: join(dir, 'proxy_secret'),
      MDB_MCP_AUDIT_LOG: join(dir, `${name}.audit.jsonl`),
      MDB_MCP_MAX_SESSIONS_PER_CALLER: '128',
      MDB_MCP_MAX_CONCURRENT_REQUESTS_PER_CALLER: '128',
      MDB_MCP_MAX_CONCURRENT_REQUESTS: '256',
    },
  });
const servers = { 'direct-http': startServer('server', opts.entry, MCP_PORT, opts['cpu-prof']) } as Record<string, Service>;
if (opts.baseline) servers['baseline-http'] = startServer('baseline', opts.baseline, BASE_PORT, opts['cpu-prof']);
const driver = new MongoClient(db.readerUri, { maxPoolSize: 128 });
const sessions: RawSession[] = [];
try {
  await Promise.all(
    Object.entries(servers).map(([name, srv]) =>
      waitFor(`${name} /healthz`, () => httpOk(`http://127.0.0.1:${name === 'direct-http' ? MCP_PORT : BASE_PORT}/healthz`), {
        timeoutMs: 60_000,
        intervalMs: 100,
        service: srv,
      }),
    ),
  );
  await driver.connect();
  const headers = { 'x-mcp-proxy-auth': secret, ...BENCH_MACHINE };
  const call = toolCall(OP, db.dbName);
  const paths: Record<string, Call[]> = { driver: Array.from({ length: CLIENTS }, () => () => driverCall(OP, driver.db(db.dbName), 10_000)) };
  for (const name of Object.keys(servers)) {
    const o = { url: `http://127.0.0.1:${name === 'direct-http' ? MCP_PORT : BASE_PORT}/mcp`, headers, timeoutMs: 10_000 };
    const agent = rawAgent(o.url, undefined);
    const mine = await Promise.all(Array.from({ length: CLIENTS }, () => openRawSession(o, agent)));
    sessions.push(...mine);
    paths[name] = mine.map((s) => () => s.callTool(call.name, call.arguments).then(() => undefined));
  }
  console.log(
    `${OP}, ${CLIENTS} clients, ${PHASE_MS} ms phases, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const rows: Record<string, { rate: number[]; p50: number[]; server: number[] }> = {};
  // The starting path rotates between rounds: with a fixed order, swapping two servers between the slots after
  // the driver swapped the winner (the later slot 14-64 % faster in calls/s), so the order was measured, not the code.
  const entries = Object.entries(paths);
  for (let round = 1; round <= Number(opts.rounds); round++) {
    for (const [name, callers] of entries.map((_, i) => entries[(i + round - 1) % entries.length]!)) {
      await runLoad(callers, { durationMs: 500, maxCalls: 1e6 }); // warm-up
      const server = servers[name];
      const [s0, d0, l0] = [server ? cpuMs(server.pid) : 0, cpuMs(db.service.pid), selfCpuMs()];
      const s = summarize(await runLoad(callers, { durationMs: PHASE_MS, maxCalls: 1e7 }));
      const per = (ms: number) => ((ms * 1000) / Math.max(1, s.calls)).toFixed(0).padStart(5);
      const cpu = { server: server ? cpuMs(server.pid) - s0 : 0, db: cpuMs(db.service.pid) - d0, load: selfCpuMs() - l0 };
      const row = (rows[name] ??= { rate: [], p50: [], server: [] });
      row.rate.push(s.throughput);
      row.p50.push(s.p50);
      row.server.push((cpu.server * 1000) / Math.max(1, s.calls));
      console.log(
        `  r${round} ${name.padEnd(13)} ${s.throughput.toFixed(0).padStart(6)} calls/s  p50 ${s.p50.toFixed(2)} ms  errors ${s.errors}  CPU µs/call: server ${server ? per(cpu.server) : '    -'}  db ${per(cpu.db)}  loadgen ${per(cpu.load)}`,
      );
    }
  }
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  console.log(
    `median over rounds (load now ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}):`,
  );
  for (const [name, r] of Object.entries(rows)) {
    console.log(
      `  ${name.padEnd(13)} ${median(r.rate).toFixed(0).padStart(6)} calls/s (${(median(r.rate) / median(rows.driver!.rate)).toFixed(2)}× driver)  p50 ${median(r.p50).toFixed(2)} ms  server ${name === 'driver' ? '-' : `${median(r.server).toFixed(0)} µs/call`}`,
    );
  }
} finally {
  await Promise.all(sessions.map((s) => s.close()));
  await driver.close().catch(() => undefined);
  await Promise.all(Object.values(servers).map((srv) => srv.stop()));
  await db.stop();
  if (opts['cpu-prof']) console.log(`\nwork dir (servers' .cpuprofile in server/ and baseline/; delete when done): ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

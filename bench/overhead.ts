/**
 * Per-call overhead of our MCP server over the raw driver (GitHub issue #7), without the running stack:
 * starts its own database (FerretDB/mongod via startDatabase, ports 34700–34799) and one read-only server
 * process over Streamable HTTP with the proxy secret, then times N sequential calls per operation through
 * the SDK client pinned to each protocol revision, and the same work through the driver.
 *
 *   npx node bench/overhead.ts [--n 500] [--rounds 3] [--cpu-prof] [--entry path/to/main.ts]
 *
 * Prints p50/p95 per round and the median p50 over rounds. `--cpu-prof` writes the server's V8 profile
 * into the work directory (printed at the end); `--entry` runs another copy of the server (A/B runs). Secrets stay in 0600 files in that directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startDatabase } from '../scripts/stack/database.ts';
import { httpOk, startService, waitFor } from '../scripts/stack/process.ts';
import { driverCall, toolCall, type Operation } from './operations.ts';
import { percentile } from './stats.ts';

const ROOT = resolve(import.meta.dirname, '..');
const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '3' },
    'cpu-prof': { type: 'boolean', default: false },
    entry: { type: 'string', default: join(ROOT, 'server/src/main.ts') },
  },
});
const N = Number(opts.n);
const ROUNDS = Number(opts.rounds);
const DB_PORT = 34_731;
const MCP_PORT = 34_732;
const OPS: Operation[] = ['list-collections', 'find'];
const VERSIONS = ['2025-11-25', '2026-07-28'];

async function timeCalls(call: () => Promise<unknown>, n: number): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < Math.min(50, n); i++) await call(); // warm-up: JIT, pools, sessions
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
}

async function connect(url: string, version: string, secret: string): Promise<Client> {
  const headers = {
    'x-mcp-proxy-auth': secret,
    'x-auth-subject': 'bench',
    'x-auth-username': 'bench',
    'x-auth-client-id': 'bench',
    'x-auth-scopes': 'mcp:read',
  };
  const client = new Client(
    { name: 'overhead', version: '1.0.0' },
    version >= '2026' ? { versionNegotiation: { mode: { pin: version } } } : { supportedProtocolVersions: [version] },
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  if (client.getNegotiatedProtocolVersion() !== version) throw new Error(`negotiated ${client.getNegotiatedProtocolVersion()}, wanted ${version}`);
  return client;
}

const dir = mkdtempSync(join(tmpdir(), 'mcp-overhead-'));
const db = await startDatabase({ dir, port: DB_PORT, log: (l) => process.stderr.write(`[db] ${l}\n`) });
const secret = randomBytes(24).toString('hex');
writeFileSync(join(dir, 'proxy_secret'), secret, { mode: 0o600 });
writeFileSync(join(dir, 'ro_uri'), db.readerUri, { mode: 0o600 });
const server = startService({
  name: 'mcp-overhead',
  command: process.execPath,
  args: [...(opts['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []), resolve(opts.entry)],
  cwd: ROOT,
  logFile: join(dir, 'server.log'),
  env: {
    MDB_MCP_TRANSPORT: 'http',
    MDB_MCP_HTTP_HOST: '127.0.0.1',
    MDB_MCP_HTTP_PORT: String(MCP_PORT),
    MDB_MCP_READ_ONLY: 'true',
    MDB_MCP_CONNECTION_STRING_FILE: join(dir, 'ro_uri'),
    MDB_MCP_PROXY_SECRET_FILE: join(dir, 'proxy_secret'),
    MDB_MCP_AUDIT_LOG: join(dir, 'audit.jsonl'),
  },
});
const driver = new MongoClient(db.readerUri);
const results = new Map<string, number[]>();
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
const record = (key: string, r: { p50: number; p95: number }) => {
  results.set(key, [...(results.get(key) ?? []), r.p50]);
  console.log(`  ${key.padEnd(34)} p50 ${r.p50.toFixed(2)} ms  p95 ${r.p95.toFixed(2)} ms`);
};
try {
  await waitFor('overhead server /healthz', () => httpOk(`http://127.0.0.1:${MCP_PORT}/healthz`), { timeoutMs: 30_000, intervalMs: 100, service: server });
  await driver.connect();
  const url = `http://127.0.0.1:${MCP_PORT}/mcp`;
  for (let round = 1; round <= ROUNDS; round++) {
    console.log(`round ${round}/${ROUNDS} (N=${N} sequential calls each)`);
    for (const op of OPS) record(`driver ${op}`, await timeCalls(() => driverCall(op, driver.db(db.dbName), 15_000), N));
    for (const version of VERSIONS) {
      const client = await connect(url, version, secret);
      for (const op of OPS) {
        record(
          `http ${version} ${op}`,
          await timeCalls(async () => {
            const r = await client.callTool(toolCall(op, db.dbName));
            if (r.isError) throw new Error(`tool error in ${op}`);
          }, N),
        );
      }
      await client.close();
    }
  }
  console.log(`\nmedian p50 over ${ROUNDS} rounds (overhead = minus the driver's median p50):`);
  for (const [key, p50s] of results) {
    const med = median(p50s);
    const op = OPS.find((o) => key.endsWith(o))!;
    const base = median(results.get(`driver ${op}`)!);
    console.log(`  ${key.padEnd(34)} ${med.toFixed(2)} ms${key.startsWith('driver') ? '' : `  (+${(med - base).toFixed(2)} ms)`}`);
  }
} finally {
  await driver.close().catch(() => undefined);
  await server.stop();
  await db.stop();
  // The work dir holds generated secrets: kept only when it also holds the profile asked for.
  if (opts['cpu-prof']) console.log(`\nwork dir (server .cpuprofile inside; delete when done): ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

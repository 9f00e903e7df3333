/**
 * Stopping does not depend on the trace exporter: the MCP server and the verifier, started as real processes
 * with an OTLP endpoint that accepts connections and never answers, answers a byte at a time and never finishes,
 * or refuses connections, each serve a request (so spans are waiting to be sent), get SIGTERM, and exit 0 on
 * their own (no SIGKILL), saying the last spans were dropped; their audit records of that request are on disk,
 * hash chain intact; neither the connection string's password nor the endpoint in their logs. The test timeout
 * is a generous bound on "it exits" (the trickling collector holds an unbounded exporter forever), not a timing
 * assertion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { startDatabase, type Database } from '../../scripts/stack/database.ts';
import { startService, waitFor, type Service } from '../../scripts/stack/process.ts';
import { freePort } from '../../scripts/stack/ports.ts';
import { verifyChain } from '../../server/src/audit/verify-chain.ts';
import { startMcpProcess } from '../harness/mcp-process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const EXITS_WITHIN = 30_000; // test timeout only: the processes budget 4 s (server) and 2 s (verifier)

let dir: string;
let db: Database | undefined;
const stuck: Server[] = [];
const held = new Set<Socket>();
const endpoints: Record<string, string> = {};
const started: Service[] = [];

/**
 * A "collector" that completes the TCP handshake and reads the request, then either never answers or answers a
 * header line at a time and never finishes (each line resets the exporter's socket timeout: only a bound of the
 * process's own ends that wait).
 */
function stuckCollector(drip: boolean): Promise<Server> {
  const server = createServer((socket) => {
    held.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => held.delete(socket));
    if (!drip) {
      socket.resume(); // reads the request, answers nothing
      return;
    }
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\n');
      const timer = setInterval(() => socket.write('x-still-thinking: 1\r\n'), 500);
      socket.on('close', () => clearInterval(timer));
    });
  });
  stuck.push(server);
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

const urlOf = (server: Server): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shutdown-tracing-'));
  db = await startDatabase({ dir, port: 0, log: () => undefined });
  endpoints['accepts and never answers'] = urlOf(await stuckCollector(false));
  endpoints['answers a header line at a time, never finishing'] = urlOf(await stuckCollector(true));
  endpoints['refuses connections'] = `http://127.0.0.1:${await freePort()}/v1/traces`; // nothing listens there
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop('SIGKILL', 0)));
  for (const s of held) s.destroy();
  for (const s of stuck) s.close();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** SIGTERM to the process itself, and how it ended: its own exit code, or the signal that killed it. */
async function terminate(service: Service) {
  process.kill(service.pid, 'SIGTERM');
  return service.ended;
}

const auditRecords = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const ENDPOINT_KINDS = ['accepts and never answers', 'answers a header line at a time, never finishing', 'refuses connections'] as const;

describe('the MCP server, exporting traces to an OTLP endpoint that', () => {
  it.each(ENDPOINT_KINDS)(
    '%s, exits 0 on SIGTERM by itself, its audit record written and chained, and says the last spans were dropped',
    async (kind) => {
      const name = kind.replace(/\W+/g, '-');
      const auditLog = join(dir, `mcp-${name}.audit.jsonl`);
      const port = await freePort();
      const origin = `http://127.0.0.1:${port}`;
      // Lab mode (no proxy credential): the caller is anonymous with mcp:read; the edge is not under test here.
      const server = await startMcpProcess({
        dir,
        name: `mcp-${name}`,
        uri: db!.readerUri,
        port,
        args: ['--insecureNoProxyAuth'],
        env: { MDB_MCP_AUDIT_LOG: auditLog, MDB_MCP_OTLP_TRACES_ENDPOINT: endpoints[kind]! },
      });
      started.push(server);

      // One call, so that its HTTP, tools/call and driver spans are batched when the signal comes; the session stays open.
      const client = new Client({ name: 'shutdown-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`)));
      const result = await client.callTool({ name: 'find', arguments: { database: db!.dbName, collection: 'customers', limit: 1 } });
      expect(result.isError).toBeFalsy();

      const ended = await terminate(server);
      await client.close().catch(() => undefined);
      const log = server.tail(200);
      expect(ended, log).toEqual({ code: 0, signal: null });
      expect(log).toMatch(/shutdown: tracing (timed-out|failed); going on/);
      expect(log).not.toMatch(/unhandled rejection|fatal/);
      expect(log).not.toContain(new URL(db!.readerUri).password);
      expect(log).not.toContain(endpoints[kind]!);

      const records = auditRecords(auditLog);
      expect(records.filter((r) => r.event === 'tool_call' && r.tool === 'find' && r.outcome === 'ok')).toHaveLength(1);
      expect(await verifyChain([auditLog])).toMatchObject({ ok: true, records: records.length });
    },
    EXITS_WITHIN,
  );
});

describe('the verifier, exporting traces to an OTLP endpoint that', () => {
  it.each(ENDPOINT_KINDS)(
    '%s, exits 0 on SIGTERM by itself, its decision written and chained, and says the last spans were dropped',
    async (kind) => {
      const name = kind.replace(/\W+/g, '-');
      const auditLog = join(dir, `verifier-${name}.audit.jsonl`);
      const port = await freePort();
      const verifier = startService({
        name: 'verifier',
        command: process.execPath,
        logFile: join(dir, `verifier-${name}.log`),
        args: [join(ROOT, 'nginx/verifier/src/main.ts')],
        env: {
          VERIFIER_PORT: String(port),
          VERIFIER_ISSUER: 'https://localhost:8443/realms/mcp',
          VERIFIER_JWKS_URL: `http://127.0.0.1:${await freePort()}/certs`, // no keys needed: the request carries no token
          VERIFIER_PUBLIC_BASE_URL: 'https://localhost:8443',
          VERIFIER_AUDIT_LOG: auditLog,
          VERIFIER_OTLP_TRACES_ENDPOINT: endpoints[kind]!,
        },
      });
      started.push(verifier);
      const base = `http://127.0.0.1:${port}`;
      await waitFor('verifier /healthz', async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok, { service: verifier, timeoutMs: 30_000 });

      // nginx's auth_request subrequest without a token: a refusal, audited, and a span waiting in the batch.
      const asked = await fetch(`${base}/verify`, { headers: { 'x-mcp-route': 'ro', 'x-original-method': 'POST', 'x-original-uri': '/mcp' } });
      expect(asked.status).toBe(401);

      const ended = await terminate(verifier);
      const log = verifier.tail(200);
      expect(ended, log).toEqual({ code: 0, signal: null });
      expect(log).toMatch(/shutdown: tracing (timed-out|failed); going on/);
      expect(log).not.toContain(endpoints[kind]!);

      const records = auditRecords(auditLog);
      expect(records).toContainEqual(expect.objectContaining({ outcome: 'refuse', code: 'missing_token', route: 'ro' }));
      expect(await verifyChain([auditLog])).toMatchObject({ ok: true, records: records.length });
    },
    EXITS_WITHIN,
  );
});

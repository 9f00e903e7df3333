/**
 * Protocol conformance (issues #2 and #12): the official MCP conformance suite drives our server, started as
 * a real process over a real database, through every scenario a domain server can pass (the others call the
 * reference server's `test_*` tools and prompts). The official mongodb-mcp-server runs the same scenarios
 * on the same database beside it, for the comparison table in README. Only loopback traffic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDatabase, type Database } from '../../../scripts/stack/database.ts';
import { startService, waitFor, type Service } from '../../../scripts/stack/process.ts';
import { freePort } from '../../../scripts/stack/ports.ts';
import { startMcpProcess } from '../../../tests/harness/mcp-process.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const CONFORMANCE = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
const OFFICIAL = join(ROOT, 'node_modules/mongodb-mcp-server/dist/esm/index.js');
/** Every scenario of `--suite all` that does not call the reference server's test_* tools, prompts or resources. */
const SCENARIOS = [
  'server-initialize',
  'ping',
  'tools-list',
  'dns-rebinding-protection',
  'logging-set-level',
  'resources-list',
  'prompts-list',
  'server-sse-multiple-streams',
  'server-sse-polling',
] as const;
/**
 * Scenarios that name the reference server's fixtures (test_prompt_with_arguments, test://…, test_* tools):
 * run for the table, not asserted. completion-complete asks to complete an argument of a prompt this server
 * does not have; we answer -32602 (the spec's "invalid prompt name") rather than pretend it exists.
 */
const REFERENCE_ONLY = [
  'completion-complete',
  'resources-read-text',
  'resources-templates-read',
  'resources-subscribe',
  'prompts-get-simple',
  'tools-call-simple-text',
  'json-schema-2020-12',
] as const;

let dir: string;
let db: Database | undefined;
let server: Service | undefined;
let port: number;
let origin: string;

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

/** One scenario through the conformance CLI: exit 0 means no FAILURE check; checks.json has each check. */
function runScenario(scenario: string, url = `${origin}/mcp`): Promise<{ code: number; output: string; checks: Check[] }> {
  const out = join(dir, 'results', `${scenario}-${url.replace(/\W+/g, '_')}`);
  mkdirSync(out, { recursive: true });
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CONFORMANCE, 'server', '--url', url, '--scenario', scenario, '-o', out],
      { env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const file = readdirSync(out, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('checks.json'));
        const checks = file ? (JSON.parse(readFileSync(join(out, file), 'utf8')) as Check[]) : [];
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        done({ code, output: `${stdout}\n${stderr}`, checks });
      },
    );
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-conformance-'));
  db = await startDatabase({ dir, port: 0, log: () => undefined });
  port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = await startMcpProcess({
    dir,
    name: 'mcp-server',
    uri: db.readerUri,
    port,
    args: [
      // Lab mode: the conformance client cannot send the edge's X-MCP-Proxy-Auth, so callers are anonymous
      // with mcp:read only. Under test is the MCP protocol layer; the proxy credential is proven elsewhere
      // (server/test/unit/http-transport.test.ts and the stack suites).
      '--insecureNoProxyAuth',
      // The dns-rebinding scenario sends `Origin: http://127.0.0.1:<port>` on its "valid" request. Our default
      // accepts an Origin only when allowlisted exactly (no implicit loopback origins: any local web page at
      // another port is also "localhost"), so the operator names this server's own origin, as deployments do.
      '--httpAllowedOrigins',
      origin,
      // Every scenario (and the comparison run) is the same anonymous caller, and the suite's clients do not all
      // end their sessions: the per-caller session quota (proven in http-quotas.test.ts and caller-quotas) is
      // raised so the protocol, not the quota, is what is measured here.
      '--maxSessionsPerCaller',
      '500',
      '--maxSessions',
      '500',
    ],
  });
});

afterAll(async () => {
  await server?.stop();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the official MCP conformance suite (@modelcontextprotocol/conformance) against the running server', () => {
  it.each(SCENARIOS)('passes the %s scenario', async (scenario) => {
    const r = await runScenario(scenario);
    const failed = r.checks.filter((c) => c.status === 'FAILURE');
    const why = `conformance ${scenario} exited ${r.code}:\n${r.output}\n--- server log ---\n${server?.tail(20) ?? ''}`;
    expect(r.checks.length, why).toBeGreaterThan(0);
    expect(failed, why).toEqual([]);
    expect(r.code, why).toBe(0);
  });

  it('accepts three concurrent POST streams on one session sent as 2025-03-26 (server-sse-multiple-streams), not just without failure', async () => {
    const r = await runScenario('server-sse-multiple-streams');
    expect(r.checks.find((c) => c.id === 'server-accepts-multiple-post-streams')?.status, r.output).toBe('SUCCESS');
  });

  it('refuses a loopback Origin that is not allowlisted, even though the suite would accept any localhost Origin', async () => {
    const res = await fetch(`${origin}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', origin: 'http://localhost:3000' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('ORIGIN_NOT_ALLOWED');
  });
});

/** What a scenario came to: pass (no FAILURE check), fail (with the first failure), or not run. */
function verdict(r: { checks: Check[]; code: number }): string {
  const failed = r.checks.find((c) => c.status === 'FAILURE');
  if (r.checks.length === 0) return `no result (exit ${r.code})`;
  return failed ? `fail: ${(failed.errorMessage ?? failed.id).slice(0, 160).replace(/\s+/g, ' ')}` : 'pass';
}

describe('the same scenarios against the official mongodb-mcp-server 3.0.4 on the same database (README comparison)', () => {
  let official: Service | undefined;
  let officialUrl: string | undefined;

  beforeAll(async () => {
    const officialPort = await freePort();
    official = startService({
      name: 'official-mcp-server',
      command: process.execPath,
      logFile: join(dir, 'official.log'),
      args: [OFFICIAL, '--transport', 'http', '--httpHost', '127.0.0.1', '--httpPort', String(officialPort), '--readOnly', '--telemetry', 'disabled'],
      env: { MDB_MCP_CONNECTION_STRING: db!.readerUri, MDB_MCP_TELEMETRY: 'disabled', HOME: dir },
    });
    const url = `http://127.0.0.1:${officialPort}/mcp`;
    const up = await waitFor(
      'official mcp server',
      async () => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body: '{}',
        }).catch(() => undefined);
        return res !== undefined;
      },
      { service: official, timeoutMs: 30_000 },
    ).then(
      () => true,
      () => false,
    );
    if (up) officialUrl = url;
  });

  afterAll(async () => {
    await official?.stop();
  });

  it('records ours and the official server scenario by scenario (printed as the README table)', async (ctx) => {
    if (!officialUrl) return ctx.skip(`the official server did not start: ${official?.tail(5) ?? ''}`);
    const rows = ['| scenario | ours | official 3.0.4 |', '|---|---|---|'];
    for (const scenario of [...SCENARIOS, ...REFERENCE_ONLY]) {
      const [ours, theirs] = [await runScenario(scenario), await runScenario(scenario, officialUrl)];
      rows.push(
        `| ${scenario}${(REFERENCE_ONLY as readonly string[]).includes(scenario) ? ' (reference fixtures)' : ''} | ${verdict(ours)} | ${verdict(theirs)} |`,
      );
    }
    const table = rows.join('\n');
    writeFileSync(join(tmpdir(), 'mcp-conformance-table.md'), `${table}\n`);
    process.stdout.write(`\n${table}\n`);
    expect(rows.length).toBe(2 + SCENARIOS.length + REFERENCE_ONLY.length);
  });
});

/**
 * The CLI's contract, driven as a user drives it (the bin in a child process) against small loopback
 * servers that each get one practice right or wrong: exit codes, usage errors, JSON and SARIF shapes.
 */
import { execFile } from 'node:child_process';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/practice.ts';

const CLI = resolve(import.meta.dirname, '../src/cli.ts');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

// Every loopback server of the file, closed with the connections a probe still holds once the file is done.
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A loopback server on an ephemeral port; resolves to its MCP URL. */
async function listen(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** A loopback server answering every request with `answer` once the body is read. */
const serve = (answer: (res: ServerResponse) => void): Promise<string> =>
  listen((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });

/** What a server that serves MCP to anyone answers to initialize. */
function initializeResult(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'x', version: '1' } } }));
}

describe('usage errors exit 2 with the reason', () => {
  it.each([
    [[], 'the MCP URL is missing'],
    [['ftp://example.com/mcp'], 'expected an http(s) URL'],
    [['https://a/mcp', '--json', '--sarif'], '--json and --sarif exclude each other'],
    [['https://a/mcp', '--client-id', 'x'], '--client-id and --client-secret-file go together'],
    [['https://a/mcp', '--only', 'no-such-practice'], 'unknown practice no-such-practice'],
    [['https://a/mcp', '--bogus'], "Unknown option '--bogus'"],
    [['https://a/mcp', '--token-file', '/nonexistent/token'], '--token-file /nonexistent/token: ENOENT'],
  ])('refuses %j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('usage: mcp-audit');
    expect(r.stdout).toBe('');
  });

  it('refuses client credentials together with a token file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-'));
    writeFileSync(join(dir, 's'), 'secret\n');
    const r = await cli(['https://a/mcp', '--client-id', 'x', '--client-secret-file', join(dir, 's'), '--token-file', join(dir, 's')]);
    rmSync(dir, { recursive: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not both');
  });

  it('prints the usage with every practice id on --help and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('auth-required, transport-tls-version');
  });
});

describe('verdicts and exit codes', () => {
  let open: string;
  let guarded: string;
  beforeAll(async () => {
    // Serves MCP to anyone: what a bare dev server does.
    open = await serve(initializeResult);
    // Refuses anonymous callers the way the MCP authorization spec asks.
    guarded = await serve((res) => {
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp"',
      });
      res.end('{"error":"unauthorized"}');
    });
  });

  it('exits 1 with the failing practice in the JSON report when anonymous initialize is served', async () => {
    const r = await cli([open, '--only', 'auth-required', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report).toEqual({
      target: open,
      practices: [
        {
          id: 'auth-required',
          title: expect.any(String),
          source: expect.stringContaining('RFC 9728'),
          status: 'fail',
          evidence: expect.stringContaining('answered 200'),
        },
      ],
    });
  });

  it('exits 0 when every selected practice passes, and reports not-applicable without failing', async () => {
    const r = await cli([guarded, '--only', 'auth-required,transport-tls-version,write-route-scope', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.practices.map((p) => [p.id, p.status])).toEqual([
      ['auth-required', 'pass'],
      ['transport-tls-version', 'not-applicable'],
      ['write-route-scope', 'not-applicable'],
    ]);
  });

  it('writes SARIF 2.1.0 with one rule per practice and failures as error-level results', async () => {
    const r = await cli([open, '--only', 'auth-required,write-stages', '--sarif']);
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      $schema: string;
      runs: Array<{
        tool: { driver: { name: string; rules: Array<{ id: string; help: { text: string } }> } };
        results: Array<{
          ruleId: string;
          ruleIndex: number;
          level: string;
          kind: string;
          locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }>;
        }>;
      }>;
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toContain('sarif-schema-2.1.0.json');
    const [run] = sarif.runs;
    expect(run!.tool.driver.name).toBe('mcp-audit');
    expect(run!.tool.driver.rules.map((x) => x.id)).toEqual(['auth-required', 'write-stages']);
    expect(run!.tool.driver.rules[0]!.help.text).toContain('RFC 9728');
    expect(run!.results.map((x) => [x.ruleId, x.ruleIndex, x.level, x.kind])).toEqual([
      ['auth-required', 0, 'error', 'fail'],
      ['write-stages', 1, 'none', 'notApplicable'],
    ]);
    expect(run!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe(open);
  });

  it('says on stderr that --aggressive runs write-path probes and the flood before running any', async () => {
    const r = await cli([open, '--only', 'auth-required', '--aggressive']);
    expect(r.stderr).toContain('--aggressive: write-path probes and the request flood run; each is announced before it is sent');
  });

  it('prints a plain table without colour codes when stdout is not a terminal', async () => {
    const r = await cli([open, '--only', 'auth-required']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}auth-required/m);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toContain('0 pass, 1 fail, 0 not applicable');
  });
});

describe('the flood and expiry probes', () => {
  let counting: string;
  let guarded: string;
  let served = 0;
  beforeAll(async () => {
    // Answers 401 to the first 300 requests, then 429 for two seconds: a per-address budget that refills.
    let throttledSince = 0;
    counting = await serve((res) => {
      if (++served === 300) throttledSince = Date.now();
      const throttled = throttledSince > 0 && Date.now() - throttledSince < 2000;
      res.writeHead(throttled ? 429 : 401, { 'content-type': 'application/json' });
      res.end('{"error":"x"}');
    });
    guarded = await serve((res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"invalid_token"}');
    });
  });

  it('does not flood without --aggressive: rate-limit is not applicable', async () => {
    const r = await cli([guarded, '--only', 'rate-limit', '--json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Report).practices[0]).toMatchObject({
      id: 'rate-limit',
      status: 'not-applicable',
      evidence: expect.stringContaining('only with --aggressive'),
    });
  });

  it('passes rate-limit when the burst meets a 429, announcing the flood and waiting until the budget refills', async () => {
    const r = await cli([counting, '--only', 'rate-limit', '--aggressive', '--json']);
    expect(r.stderr).toMatch(/--aggressive: up to 30000 anonymous GET .* in 20 s over 32 keep-alive connections/);
    const [p] = (JSON.parse(r.stdout) as Report).practices;
    expect(p).toMatchObject({ id: 'rate-limit', status: 'pass', evidence: expect.stringMatching(/^throttled after \d+ requests: 429/) });
    expect(p!.evidence).not.toContain('still throttled');
    expect(r.code).toBe(0);
  });

  it('fails rate-limit when 30000 requests in a burst are all answered, naming the rate it reached', { timeout: 60_000 }, async () => {
    const r = await cli([guarded, '--only', 'rate-limit', '--aggressive', '--json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as Report).practices[0]).toMatchObject({
      status: 'fail',
      evidence: expect.stringMatching(/^\d+ requests in \d+\.\d s \(\d+\/s\), none throttled \(\d+×401\)$/),
    });
  });

  it('judges expiry only with an expired token it was given, and says why otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-audit-'));
    const jwt = (exp: number) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;
    writeFileSync(join(dir, 'old'), jwt(Math.floor(Date.now() / 1000) - 120));
    writeFileSync(join(dir, 'fresh'), jwt(Math.floor(Date.now() / 1000) + 600));
    const verdict = async (...extra: string[]) =>
      (JSON.parse((await cli([guarded, '--only', 'token-expired', '--json', ...extra])).stdout) as Report).practices[0];
    try {
      expect(await verdict()).toMatchObject({ status: 'not-applicable', evidence: expect.stringContaining('--expired-token-file') });
      expect(await verdict('--expired-token-file', join(dir, 'fresh'))).toMatchObject({
        status: 'not-applicable',
        evidence: expect.stringContaining('has not expired yet'),
      });
      expect(await verdict('--expired-token-file', join(dir, 'old'))).toMatchObject({
        status: 'pass',
        evidence: expect.stringMatching(/^a token expired 12\d s ago refused with 401/),
      });
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('the held-connection probe', () => {
  /** Serves MCP anonymously; with `budget`, a request arriving while `budget` others wait for their bodies gets 429. */
  function holding(budget?: number): Promise<string> {
    let waiting = 0;
    return listen((req, res) => {
      if (budget !== undefined && waiting >= budget) {
        const body = '{"error":"too_many_connections"}';
        res.writeHead(429, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
        return;
      }
      waiting++;
      req.resume();
      req.on('close', () => waiting--);
      req.on('end', () => initializeResult(res));
    });
  }

  it('passes connection-limit when requests past a budget are refused before their bodies come', { timeout: 30_000 }, async () => {
    const url = await holding(100);
    const r = await cli([url, '--only', 'connection-limit', '--aggressive', '--json']);
    expect(r.stderr).toContain('--aggressive: 256 POST');
    expect((JSON.parse(r.stdout) as Report).practices[0]).toMatchObject({
      status: 'pass',
      evidence: '100 held, 156 refused with 429 {"error":"too_many_connections"}',
    });
    expect(r.code).toBe(0);
  });

  it('fails connection-limit when every held request keeps its connection', { timeout: 30_000 }, async () => {
    const url = await holding();
    const r = await cli([url, '--only', 'connection-limit', '--aggressive', '--json']);
    expect((JSON.parse(r.stdout) as Report).practices[0]).toMatchObject({
      status: 'fail',
      evidence: '256 requests without their bodies all held open (256 waiting)',
    });
    expect(r.code).toBe(1);
  });
});

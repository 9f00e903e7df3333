/**
 * The CLI's contract, driven as a user drives it (the bin in a child process) against small loopback
 * servers that each get one practice right or wrong: exit codes, usage errors, JSON and SARIF shapes.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
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

/** A loopback server answering every POST with `answer`; listening on an ephemeral port. */
async function serve(answer: (res: import('node:http').ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/mcp`, server };
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
  let open: { url: string; server: Server };
  let guarded: { url: string; server: Server };
  beforeAll(async () => {
    // Serves MCP to anyone: what a bare dev server does.
    open = await serve((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'x', version: '1' } } }));
    });
    // Refuses anonymous callers the way the MCP authorization spec asks.
    guarded = await serve((res) => {
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp"' });
      res.end('{"error":"unauthorized"}');
    });
  });
  afterAll(() => {
    open.server.close();
    guarded.server.close();
  });

  it('exits 1 with the failing practice in the JSON report when anonymous initialize is served', async () => {
    const r = await cli([open.url, '--only', 'auth-required', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report).toEqual({
      target: open.url,
      practices: [{ id: 'auth-required', title: expect.any(String), source: expect.stringContaining('RFC 9728'), status: 'fail', evidence: expect.stringContaining('answered 200') }],
    });
  });

  it('exits 0 when every selected practice passes, and reports not-applicable without failing', async () => {
    const r = await cli([guarded.url, '--only', 'auth-required,transport-tls-version,write-route-scope', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.practices.map((p) => [p.id, p.status])).toEqual([
      ['auth-required', 'pass'],
      ['transport-tls-version', 'not-applicable'],
      ['write-route-scope', 'not-applicable'],
    ]);
  });

  it('writes SARIF 2.1.0 with one rule per practice and failures as error-level results', async () => {
    const r = await cli([open.url, '--only', 'auth-required,write-stages', '--sarif']);
    expect(r.code).toBe(1);
    const sarif = JSON.parse(r.stdout) as { version: string; $schema: string; runs: Array<{ tool: { driver: { name: string; rules: Array<{ id: string; help: { text: string } }> } }; results: Array<{ ruleId: string; ruleIndex: number; level: string; kind: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }> }> };
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
    expect(run!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe(open.url);
  });

  it('says on stderr that --aggressive runs write-path probes before running any', async () => {
    const r = await cli([open.url, '--only', 'auth-required', '--aggressive']);
    expect(r.stderr).toContain('--aggressive: write-path probes run; each is announced before it is sent');
  });

  it('prints a plain table without colour codes when stdout is not a terminal', async () => {
    const r = await cli([open.url, '--only', 'auth-required']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}auth-required/m);
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toContain('0 pass, 1 fail, 0 not applicable');
  });
});

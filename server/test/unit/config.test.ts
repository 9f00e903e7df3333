import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseConfig } from '../../src/config/parse.ts';
import { helpText, redactConfig, redactText } from '../../src/config/help.ts';
import { configFields } from '../../src/config/schema.ts';
import { envName } from '../../src/config/fields.ts';

const MAIN = resolve(import.meta.dirname, '../../src/main.ts');
const ok = (argv: string[], env: NodeJS.ProcessEnv = {}, files: Record<string, string> = {}) => {
  const r = parseConfig(argv, env, (p) => {
    if (p in files) return files[p] ?? '';
    throw new Error('ENOENT');
  });
  if (r.kind !== 'config') throw new Error(`expected a config, got ${JSON.stringify(r)}`);
  return r;
};
const err = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = parseConfig(argv, env, () => 'x');
  if (r.kind !== 'error') throw new Error(`expected an error, got ${r.kind}`);
  return r.message;
};

describe('configuration', () => {
  it('has secure defaults: loopback, 100 documents, 16 MiB, 15 s, server-side JS off', () => {
    const { config } = ok([]);
    expect(config).toMatchObject({
      httpHost: '127.0.0.1',
      maxDocumentsPerQuery: 100,
      maxBytesPerQuery: 16 * 1024 * 1024,
      maxTimeMS: 15000,
      disableServerSideJs: true,
      httpBodyLimit: 1024 * 1024,
      transport: 'stdio',
    });
  });

  it('names environment variables in upper snake case, maxTimeMS as MDB_MCP_MAX_TIME_MS', () => {
    expect(envName('maxTimeMS')).toBe('MDB_MCP_MAX_TIME_MS');
    expect(envName('httpAllowedHosts')).toBe('MDB_MCP_HTTP_ALLOWED_HOSTS');
    expect(ok([], { MDB_MCP_MAX_TIME_MS: '500' }).config.maxTimeMS).toBe(500);
  });

  it('reads booleans, integers and comma lists from env and flags; flags win over env', () => {
    const { config } = ok(['--readOnly', '--httpPort', '4000', '--disabledTools', 'find, delete'], { MDB_MCP_HTTP_PORT: '5000', MDB_MCP_READ_ONLY: 'false' });
    expect(config.readOnly).toBe(true);
    expect(config.httpPort).toBe(4000);
    expect(config.disabledTools).toEqual(['find', 'delete']);
    expect(ok(['--readOnly', 'false']).config.readOnly).toBe(false);
    expect(ok(['--indexCheck=true']).config.indexCheck).toBe(true);
  });

  it('reads every secret from a <NAME>_FILE, with the trailing newline removed', () => {
    const { config } = ok(
      [],
      { MDB_MCP_CONNECTION_STRING_FILE: '/s/uri', MDB_MCP_PROXY_SECRET_FILE: '/s/p' },
      { '/s/uri': 'mongodb://u:p@h/\n', '/s/p': 'a-proxy-secret-of-32-characters!\n' },
    );
    expect(config.connectionString).toBe('mongodb://u:p@h/');
    expect(config.proxySecret).toBe('a-proxy-secret-of-32-characters!');
    expect(ok(['--proxySecretFile', '/s/p'], {}, { '/s/p': 'q'.repeat(20) }).config.proxySecret).toBe('q'.repeat(20));
  });

  it('warns when a secret is given on argv, where ps shows it', () => {
    expect(ok(['--connectionString', 'mongodb://u:pw@h/']).warnings.join()).toMatch(/connectionString.*_FILE/);
    expect(ok([], { MDB_MCP_CONNECTION_STRING: 'mongodb://u:pw@h/' }).warnings).toEqual([]);
  });

  it('rejects a bad value with one line naming the field and its source, never the value', () => {
    const m = err(['--httpPort', '70000']);
    expect(m).toMatch(/^invalid configuration: httpPort: .*\(from --httpPort\)$/);
    expect(m.split('\n')).toHaveLength(1);
    expect(err([], { MDB_MCP_MAX_TIME_MS: 'soon' })).toMatch(/maxTimeMS: .*MDB_MCP_MAX_TIME_MS/);
    expect(err(['--transport', 'carrier-pigeon'])).toMatch(/transport:/);
    expect(err(['--readOnly', '--bogus'])).toMatch(/unknown option --bogus/);
    expect(err(['--proxySecret', 'short-secret-value-x', '--httpPort', 'abc'])).not.toMatch(/short-secret-value-x/);
  });

  it('refuses HTTP without a proxy secret unless the lab flag is set (secure by default)', () => {
    expect(err(['--transport', 'http'])).toMatch(/proxySecret: required/);
    expect(ok(['--transport', 'http', '--insecureNoProxyAuth']).config.insecureNoProxyAuth).toBe(true);
  });

  it('refuses a non-loopback bind address unless dangerouslyAllowNonLoopback', () => {
    const base = ['--transport', 'http', '--insecureNoProxyAuth'];
    expect(err([...base, '--httpHost', '0.0.0.0'])).toMatch(/httpHost: non-loopback/);
    expect(ok([...base, '--httpHost', '0.0.0.0', '--dangerouslyAllowNonLoopback']).config.httpHost).toBe('0.0.0.0');
    expect(ok([...base, '--httpHost', '::1']).config.httpHost).toBe('::1');
  });

  it('lists every schema field in --help with its env name and default, generated from the schema', () => {
    const text = helpText();
    for (const key of Object.keys(configFields)) {
      expect(text).toContain(`--${key}`);
      expect(text).toContain(envName(key));
    }
    expect(text).toContain('MDB_MCP_CONNECTION_STRING_FILE');
  });

  it('redacts secrets in any printed config and credentials in any message', () => {
    const { config } = ok([], { MDB_MCP_CONNECTION_STRING: 'mongodb://u:hunter2@h/', MDB_MCP_PROXY_SECRET: 'p'.repeat(20) });
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('p'.repeat(20));
    expect(redactText('failed mongodb://u:hunter2@h:1/x')).not.toContain('hunter2');
    expect(redactText('token abcdef here', ['abcdef'])).toBe('token [redacted] here');
  });
});

describe('configuration errors stop the process', () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 10_000 });

  it('exits with code 2 and one stderr line naming the field, before any connection', () => {
    const r = run(['--httpPort', 'seventy'], { MDB_MCP_CONNECTION_STRING: 'mongodb://u:topsecret@127.0.0.1:9/' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/httpPort/);
    expect(r.stderr).not.toContain('topsecret');
  });

  it('exits with code 2 when HTTP is asked for without a proxy secret', () => {
    const r = run(['--transport', 'http'], { MDB_MCP_CONNECTION_STRING: 'mongodb://127.0.0.1:9/' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/proxySecret/);
  });

  it('exits with code 2 when no connection string is configured', () => {
    const r = run([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/connectionString: required/);
  });

  it('prints help generated from the schema and exits 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('MDB_MCP_MAX_TIME_MS');
  });
});

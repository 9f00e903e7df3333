import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config.ts';

const good = {
  VERIFIER_ISSUER: 'https://localhost:8443/realms/mcp',
  VERIFIER_JWKS_URL: 'http://127.0.0.1:8080/realms/mcp/protocol/openid-connect/certs',
  VERIFIER_PUBLIC_BASE_URL: 'https://localhost:8443/',
};

describe('verifier configuration', () => {
  it('applies secure defaults: loopback, port 9191, audit to stderr, cache ≤ 30 s', () => {
    const r = parseConfig(good);
    expect(r.ok && r.config).toMatchObject({
      VERIFIER_HOST: '127.0.0.1',
      VERIFIER_PORT: 9191,
      VERIFIER_AUDIT_LOG: 'stderr',
      VERIFIER_CACHE_TTL_MS: 30_000,
      VERIFIER_PUBLIC_BASE_URL: 'https://localhost:8443',
    });
  });

  it('names the missing field in one line', () => {
    const r = parseConfig({ ...good, VERIFIER_ISSUER: undefined });
    expect(!r.ok && r.message).toMatch(/^verifier: invalid configuration: VERIFIER_ISSUER: /);
  });

  it('refuses a public base URL that is not https', () => {
    expect(parseConfig({ ...good, VERIFIER_PUBLIC_BASE_URL: 'http://localhost:8443' }).ok).toBe(false);
  });

  it('refuses a token cache longer than 30 s', () => {
    expect(parseConfig({ ...good, VERIFIER_CACHE_TTL_MS: '60000' }).ok).toBe(false);
  });

  it('exits 2 with one line on stderr before opening any socket', () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const r = spawnSync(process.execPath, [main], { env: { PATH: process.env.PATH ?? '', VERIFIER_PORT: 'nope' }, encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('VERIFIER_');
  });
});

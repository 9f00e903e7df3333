/**
 * db/init.ts configuration: environment only, fail fast with one line naming the field, never echo a secret.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildUri } from '../../db/connection.ts';
import { parseHosts } from '../../db/config.ts';

const INIT = join(import.meta.dirname, '../../db/init.ts');
const runInit = (env: Record<string, string>) =>
  spawnSync(process.execPath, [INIT], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 10_000 });

describe('database init configuration', () => {
  it('exits 2 with one line naming the missing field', () => {
    const r = runInit({ DB_ADMIN_PASSWORD_FILE: '/nonexistent' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/DB_READER_PASSWORD_FILE/);
  });

  it('refuses credentials inside DB_INIT_URI without echoing them', () => {
    const r = runInit({
      DB_INIT_URI: 'mongodb://admin:s3cr3t-in-uri@127.0.0.1:1/',
      DB_ADMIN_PASSWORD_FILE: '/x',
      DB_READER_PASSWORD_FILE: '/x',
      DB_WRITER_PASSWORD_FILE: '/x',
      DB_TLS_CA_FILE: '/x',
      DB_TLS_CERT_KEY_FILE: '/x',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/DB_INIT_URI must not carry credentials/);
    expect(r.stderr).not.toContain('s3cr3t-in-uri');
  });

  it('accepts a URI or a bare host list', () => {
    expect(parseHosts('mongodb://mongo1:27017,mongo2:27017/?tls=true')).toEqual(['mongo1:27017', 'mongo2:27017']);
    expect(parseHosts('127.0.0.1:34100')).toEqual(['127.0.0.1:34100']);
  });

  it('builds TLS + client-certificate + SCRAM-SHA-256 URIs with the password percent-encoded', () => {
    const uri = buildUri({
      hosts: ['127.0.0.1:1'],
      tls: { caFile: '/c/ca.crt', certKeyFile: '/c/mcp-client.pem' },
      direct: true,
      user: { name: 'mcp_reader', password: 'p@ss/word' },
    });
    const q = new URL(uri).searchParams;
    expect([q.get('tls'), q.get('tlsCAFile'), q.get('tlsCertificateKeyFile'), q.get('authMechanism')]).toEqual([
      'true',
      '/c/ca.crt',
      '/c/mcp-client.pem',
      'SCRAM-SHA-256',
    ]);
    expect(decodeURIComponent(new URL(uri).password)).toBe('p@ss/word');
  });
});

/**
 * scripts/certs.sh and scripts/secrets.sh: the PKI and secrets every tier depends on. Runs openssl only.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPTS = join(import.meta.dirname, '../../scripts');
const sh = (script: string, dir: string) => execFileSync('bash', [join(SCRIPTS, script), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
let dir: string;
const certs = () => join(dir, 'certs');
const secrets = () => join(dir, 'secrets');
const cert = (name: string) => new X509Certificate(readFileSync(join(certs(), `${name}.crt`)));
const mode = (f: string) => statSync(f).mode & 0o777;
const mtimes = (d: string) => Object.fromEntries(readdirSync(d).map((f) => [f, statSync(join(d, f)).mtimeMs]));

describe('generated certificates and secrets', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'db-material-'));
    sh('certs.sh', certs());
    sh('secrets.sh', secrets());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('issues every server and client certificate from the private CA', () => {
    const ca = cert('ca');
    expect(ca.ca).toBe(true);
    for (const name of ['edge', 'keycloak', 'db', 'mcp-client']) {
      expect(cert(name).verify(ca.publicKey)).toBe(true);
      expect(cert(name).ca).toBe(false);
    }
  });

  it('names both the compose service names and the native addresses in the server certificates', () => {
    expect(cert('edge').checkIP('10.88.1.2')).toBe('10.88.1.2');
    expect(cert('edge').checkHost('proxy')).toBe('proxy');
    expect(cert('keycloak').checkIP('10.88.4.2')).toBe('10.88.4.2');
    for (const h of ['mongo1', 'mongo2', 'mongo3', 'localhost']) expect(cert('db').checkHost(h)).toBe(h);
    for (const ip of ['127.0.0.1', '10.88.3.2', '10.88.5.2']) expect(cert('db').checkIP(ip)).toBe(ip);
    expect(cert('db').checkHost('evil.example')).toBeUndefined();
  });

  it('keeps every private key owner-only and bundles cert and key for the database clients', () => {
    for (const f of readdirSync(certs()).filter((f) => /\.(key|pem)$/.test(f))) expect(mode(join(certs(), f))).toBe(0o600);
    const pem = readFileSync(join(certs(), 'mcp-client.pem'), 'utf8');
    expect(new X509Certificate(pem).subject).toContain('CN=mcp-client');
    expect(createPrivateKey(pem).asymmetricKeyType).toBe('ec');
  });

  it('rewrites nothing on a second run', () => {
    const before = [mtimes(certs()), mtimes(secrets())];
    sh('certs.sh', certs());
    sh('secrets.sh', secrets());
    expect([mtimes(certs()), mtimes(secrets())]).toEqual(before);
  });

  it('reissues a certificate whose SAN list changed', () => {
    const serial = cert('keycloak').serialNumber;
    writeFileSync(join(certs(), 'keycloak.san'), 'DNS:stale');
    sh('certs.sh', certs());
    expect(cert('keycloak').serialNumber).not.toBe(serial);
    expect(cert('keycloak').checkHost('keycloak')).toBe('keycloak');
  });

  it('generates URL-safe secrets of at least 32 characters, owner-only', () => {
    for (const name of ['proxy_secret', 'db_admin_password', 'db_reader_password', 'db_writer_password', 'kc_admin_password',
      'service_agent_secret', 'exchanger_secret', 'analyst_password', 'operator_password']) {
      const v = readFileSync(join(secrets(), name), 'utf8');
      expect(v).toMatch(/^[A-Za-z0-9_-]{32,}$/);
      expect(mode(join(secrets(), name))).toBe(0o600);
    }
    expect(mode(secrets())).toBe(0o700);
  });

  it('writes a MongoDB keyFile of 6 to 1024 base64 characters, owner-only', () => {
    const key = readFileSync(join(secrets(), 'mongo_keyfile'), 'utf8');
    expect(key).toMatch(/^[A-Za-z0-9+/=]{6,1024}$/);
    expect(mode(join(secrets(), 'mongo_keyfile'))).toBe(0o600);
  });
});

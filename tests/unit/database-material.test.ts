/**
 * scripts/certs.sh and scripts/secrets.sh: the PKI and secrets every tier depends on. Runs openssl only.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_NAMES } from '../../contract/contract.ts';

const SCRIPTS = join(import.meta.dirname, '../../scripts');
const sh = (script: string, dir: string) => execFileSync('bash', [join(SCRIPTS, script), dir], { stdio: ['ignore', 'ignore', 'pipe'] });
let dir: string;
const certs = () => join(dir, 'certs');
const secrets = () => join(dir, 'secrets');
const cert = (name: string) => new X509Certificate(readFileSync(join(certs(), `${name}.crt`)));
const mode = (f: string) => statSync(f).mode & 0o777;
const mtimes = (d: string) => Object.fromEntries(readdirSync(d).map((f) => [f, statSync(join(d, f)).mtimeMs]));
const keyMatchesCert = (name: string) =>
  createPublicKey(readFileSync(join(certs(), `${name}.key`)))
    .export({ format: 'der', type: 'spki' })
    .equals(cert(name).publicKey.export({ format: 'der', type: 'spki' }));

/** A PATH where `openssl` fails for the commands that make something (signing a leaf, `rand`) and passes the rest on. */
function failingOpenssl(): NodeJS.ProcessEnv {
  const real = execFileSync('sh', ['-c', 'command -v openssl'], { encoding: 'utf8' }).trim();
  const bin = join(dir, 'failing-bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'openssl'), `#!/bin/sh\ncase "$1 $2" in "x509 -req" | "rand "*) echo "simulated failure" >&2; exit 1 ;; esac\nexec ${real} "$@"\n`);
  chmodSync(join(bin, 'openssl'), 0o755);
  return { ...process.env, PATH: `${bin}:${process.env.PATH}` };
}
const shWith = (env: NodeJS.ProcessEnv, script: string, out: string) =>
  execFileSync('bash', [join(SCRIPTS, script), out], { stdio: ['ignore', 'ignore', 'pipe'], env });

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

  // Why: a failure inside a function called under `if`/`||` does not stop a `set -e` script; certs.sh once
  // went on with a new key, its old certificate and the new SAN recorded as issued, and exited 0.
  it('stops with an error and keeps the previous key and certificate when openssl fails while reissuing one', () => {
    writeFileSync(join(certs(), 'edge.san'), 'DNS:stale');
    const serial = cert('edge').serialNumber;
    expect(() => shWith(failingOpenssl(), 'certs.sh', certs())).toThrow(/simulated failure/);
    expect(cert('edge').serialNumber).toBe(serial);
    expect(keyMatchesCert('edge')).toBe(true);
    expect(readdirSync(certs()).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // The next good run still sees the stale SAN and reissues.
    sh('certs.sh', certs());
    expect(cert('edge').serialNumber).not.toBe(serial);
    expect(keyMatchesCert('edge')).toBe(true);
  });

  it('stops with an error and writes no secret when openssl cannot make one', () => {
    const out = join(dir, 'secrets-failing');
    expect(() => shWith(failingOpenssl(), 'secrets.sh', out)).toThrow(/simulated failure/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('generates URL-safe secrets of at least 32 characters, owner-only', () => {
    // mongo_keyfile is base64 (mongod's keyFile alphabet), checked apart.
    for (const name of SECRET_NAMES.filter((n) => n !== 'mongo_keyfile')) {
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

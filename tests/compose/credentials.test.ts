/**
 * scripts/compose/credentials.sh — the `certs` one-shot — run for real against a temporary directory:
 * each consumer gets only its own credentials, owned by its uid, mode 0400, and every path compose.yaml
 * points a service at exists in that service's credentials volume.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envOf, loadCompose, ROOT } from './compose-file.ts';

const compose = loadCompose();
const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), 'compose-credentials-'));
const secrets = join(dir, 'secrets');
const out = join(dir, 'out');
const env = { ...process.env, SECRETS_DIR: secrets, CERTS_SH: join(ROOT, 'scripts/certs.sh'), PKI_DIR: join(dir, 'pki'), OUT_DIR: out };
const runScript = () => spawnSync('bash', [join(ROOT, 'scripts/compose/credentials.sh')], { env, encoding: 'utf8' });
let first: ReturnType<typeof runScript> | undefined;

/** Volume name → the consumer folder certs writes it as (`<volume>:/out/<folder>`). */
const outDirOfVolume = Object.fromEntries(
  (compose.services.certs?.volumes ?? [])
    .map(String)
    .map((v) => /^([\w-]+):\/out\/([\w-]+)$/.exec(v))
    .filter((m) => !!m)
    .map((m) => [m[1], m[2]]),
);
/** The consumer folder mounted at /run/credentials in a service, if any. */
function credentialsDirOf(name: string): string | undefined {
  const v = (compose.services[name]?.volumes ?? []).map(String).find((x) => x.split(':')[1] === '/run/credentials');
  const vol = v?.split(':')[0];
  return vol ? outDirOfVolume[vol] : undefined;
}

beforeAll(() => {
  if (!isRoot) return;
  execFileSync('bash', [join(ROOT, 'scripts/secrets.sh'), secrets], { stdio: 'ignore' });
  first = runScript();
}, 60_000); // certs.sh makes RSA keys: slow on a loaded 2-core machine
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('certs one-shot (scripts/compose/credentials.sh)', () => {
  const skip = 'chown to other uids needs root';

  it('succeeds and prints no secret', (ctx) => {
    if (!isRoot) return ctx.skip(skip);
    expect(first?.status, first?.stderr).toBe(0);
    const printed = `${first?.stdout}${first?.stderr}`;
    for (const s of ['proxy_secret', 'db_reader_password', 'kc_admin_password', 'mongo_keyfile']) {
      expect(printed.includes(readFileSync(join(secrets, s), 'utf8').trim().slice(0, 24)), s).toBe(false);
    }
  });

  it('gives each consumer its own files, owned by its uid, mode 0400', (ctx) => {
    if (!isRoot) return ctx.skip(skip);
    const owners: Record<string, number> = { mongo: 999, 'mongo-init': 1000, 'mcp-ro': 1000, 'mcp-rw': 1000, proxy: 101, keycloak: 1000, 'dcr-reaper': 1000 };
    for (const [consumer, uid] of Object.entries(owners)) {
      for (const f of execFileSync('ls', [join(out, consumer)], { encoding: 'utf8' })
        .trim()
        .split('\n')) {
        const st = statSync(join(out, consumer, f));
        expect(`${consumer}/${f} ${st.uid} ${(st.mode & 0o777).toString(8)}`).toBe(`${consumer}/${f} ${uid} 400`);
      }
    }
  });

  it('seals each consumer directory (a volume root): owned by its uid, 0500, so no other uid can even list it', (ctx) => {
    if (!isRoot) return ctx.skip(skip);
    const owners: Record<string, number> = { mongo: 999, 'mongo-init': 1000, 'mcp-ro': 1000, 'mcp-rw': 1000, proxy: 101, keycloak: 1000, 'dcr-reaper': 1000 };
    for (const [consumer, uid] of Object.entries(owners)) {
      const st = statSync(join(out, consumer));
      expect(`${consumer} ${st.uid}:${st.gid} ${(st.mode & 0o777).toString(8)}`).toBe(`${consumer} ${uid}:${uid} 500`);
    }
    expect((statSync(join(dir, 'pki')).mode & 0o777).toString(8), "the CA key's volume").toBe('700');
  });

  it('hands out least privilege: keys and passwords only to the tier that uses them', (ctx) => {
    if (!isRoot) return ctx.skip(skip);
    expect(existsSync(join(out, 'proxy/edge.key'))).toBe(true);
    expect(existsSync(join(out, 'mcp-ro/db_writer_password'))).toBe(false);
    expect(readFileSync(join(out, 'mcp-ro/uri'), 'utf8')).toMatch(
      /^mongodb:\/\/mcp_reader:[^@]+@mongo1:27017,mongo2:27017,mongo3:27017\/\?replicaSet=rs0&tls=true&/,
    );
    expect(readFileSync(join(out, 'mcp-rw/uri'), 'utf8')).toMatch(/^mongodb:\/\/mcp_writer:/);
    for (const consumer of ['mongo', 'mcp-ro', 'mcp-rw', 'proxy', 'mongo-init', 'keycloak']) {
      expect(existsSync(join(out, consumer, 'ca.key')), `${consumer} must not get the CA key`).toBe(false);
    }
    expect(readFileSync(join(out, 'mongo/keyfile'), 'utf8')).toBe(readFileSync(join(secrets, 'mongo_keyfile'), 'utf8'));
    // The registration reaper gets its own client secret and nothing else (no bootstrap admin password).
    expect(execFileSync('ls', [join(out, 'dcr-reaper')], { encoding: 'utf8' }).trim()).toBe('dcr_reaper_secret');
  });

  it("provides every /run/credentials path that compose.yaml gives a service, in that service's own volume", (ctx) => {
    if (!isRoot) return ctx.skip(skip);
    const missing: string[] = [];
    for (const [name, s] of Object.entries(compose.services)) {
      const text = JSON.stringify([envOf(s), s.command, s.entrypoint, s.healthcheck]);
      const uriText = name.startsWith('mcp-') ? readFileSync(join(out, credentialsDirOf(name) ?? '-', 'uri'), 'utf8') : '';
      for (const m of `${text} ${uriText}`.matchAll(/\/run\/credentials\/([\w.-]+)/g)) {
        const folder = credentialsDirOf(name);
        if (!folder || !existsSync(join(out, folder, m[1] ?? ''))) missing.push(`${name}: /run/credentials/${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('is idempotent: a second run over its own 0400 files succeeds', (ctx) => {
    if (!isRoot) return ctx.skip(skip);
    const r = runScript();
    expect(r.status, r.stderr).toBe(0);
  });

  it('for the FerretDB data tier (DB_ENGINE=ferretdb): gives the server its admin password and the MCP servers a direct URI', { timeout: 60_000 }, (ctx) => {
    if (!isRoot) return ctx.skip(skip);
    const r = spawnSync('bash', [join(ROOT, 'scripts/compose/credentials.sh')], { env: { ...env, DB_ENGINE: 'ferretdb' }, encoding: 'utf8' });
    try {
      expect(r.status, r.stderr).toBe(0);
      const st = statSync(join(out, 'mongo/db_admin_password'));
      expect(`${st.uid} ${(st.mode & 0o777).toString(8)}`).toBe('999 400');
      expect(readFileSync(join(out, 'mcp-ro/uri'), 'utf8')).toMatch(/^mongodb:\/\/mcp_reader:[^@]+@mongo1:27017\/\?directConnection=true&tls=true&/);
    } finally {
      unlinkSync(join(out, 'mongo/db_admin_password'));
      expect(runScript().status).toBe(0); // back to the replica-set layout for the tests below
    }
  });

  it('refuses an unknown DB_ENGINE with exit 2', (ctx) => {
    if (!isRoot) return ctx.skip(skip);
    expect(spawnSync('bash', [join(ROOT, 'scripts/compose/credentials.sh')], { env: { ...env, DB_ENGINE: 'sqlite' } }).status).toBe(2);
  });

  it('refuses to run when a secret is missing, naming it', (ctx) => {
    if (!isRoot) return ctx.skip(skip);
    unlinkSync(join(secrets, 'exchanger_secret'));
    const r = runScript();
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/exchanger_secret/);
  });
});

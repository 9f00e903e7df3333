/**
 * The compose runtime of the test harness (tests/harness/compose-runtime.ts): the parts that need no Docker
 * engine — the manifest, the edge origin, the engine probe, the CA extraction. The live bring-up is
 * tests/compose-live/compose-up.test.ts (vitest project `compose`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildComposeManifest, composeEdgeUrl } from '../harness/compose-manifest.ts';
import { dockerAvailable, extractOneFile } from '../harness/compose-runtime.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const COMPOSE = readFileSync(resolve(ROOT, 'compose.yaml'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'compose-runtime-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the compose manifest', () => {
  const secretsDir = join(scratch, 'secrets');
  const names = ['proxy_secret', 'db_admin_password', 'service_agent_secret', 'exchanger_secret', 'analyst_password', 'operator_password'];
  execFileSync('mkdir', ['-p', secretsDir]);
  for (const n of names) writeFileSync(join(secretsDir, n), `${n}-value-0123456789\n`);
  const m = buildComposeManifest({ edgeUrl: 'https://localhost:8443', secretsDir, caFile: join(scratch, 'ca.crt'), logsDir: join(scratch, 'logs') });

  it('takes every credential from the generated secret files, never invents one', () => {
    expect(m.clients.service).toEqual({ id: 'mcp-service-agent', secret: 'service_agent_secret-value-0123456789' });
    expect(m.clients.exchange.secret).toBe('exchanger_secret-value-0123456789');
    expect(m.users.analyst).toEqual({ username: 'analyst', password: 'analyst_password-value-0123456789' });
    expect(m.users.operator.password).toBe('operator_password-value-0123456789');
    expect(m.proxySecretFile).toBe(join(secretsDir, 'proxy_secret'));
    expect(m.database.uri).toContain(':db_admin_password-value-0123456789@');
  });

  it('names the public origin for issuer and resources, as Keycloak and the verifier do in compose.yaml', () => {
    expect(m).toMatchObject({
      runtime: 'compose',
      edgeUrl: 'https://localhost:8443',
      clientEdgeUrl: 'https://localhost:8443',
      issuer: 'https://localhost:8443/realms/mcp',
    });
    expect(m.resources).toEqual({ readOnly: 'https://localhost:8443/mcp', readWrite: 'https://localhost:8443/mcp/admin' });
    expect(COMPOSE).toContain('KC_HOSTNAME: https://localhost:8443');
    expect(COMPOSE).toContain('VERIFIER_ISSUER: https://localhost:8443/realms/mcp');
  });

  it('declares no client namespace, internal probe or pid, so the suites that need them skip with their reason', () => {
    expect(m.clientNetns).toBeNull();
    expect(m.direct.netns).toBeNull();
    expect(m.internal).toEqual([]);
    expect(m.pids).toEqual({});
  });

  it("points the database at the mongod replica set inside the data network with the mcp servers' TLS files", () => {
    // A seed list is not a WHATWG URL (several host:port), so the parts are read with a pattern.
    const [, user, hosts, query] = /^mongodb:\/\/([^:]+):[^@]+@([^/]+)\/\?(.*)$/.exec(m.database.uri) ?? [];
    expect(m.database).toMatchObject({ kind: 'mongod', name: 'shop' });
    expect(user).toBe('admin');
    expect(hosts).toBe('mongo1:27017,mongo2:27017,mongo3:27017');
    expect(Object.fromEntries(new URLSearchParams(query))).toMatchObject({
      replicaSet: 'rs0',
      tls: 'true',
      tlsCAFile: '/run/credentials/ca.crt',
      authSource: 'admin',
    });
  });

  it('reads the audit from the followed stderr of the tiers whose compose audit target is stderr', () => {
    expect(COMPOSE.match(/MDB_MCP_AUDIT_LOG: stderr/g)).toHaveLength(1); // mcp-rw inherits mcp-ro's env anchor
    expect(COMPOSE).toContain('VERIFIER_AUDIT_LOG: stderr');
    expect(m.auditLog).toEqual({
      readOnly: join(scratch, 'logs/mcp-ro.log'),
      readWrite: join(scratch, 'logs/mcp-rw.log'),
      verifier: join(scratch, 'logs/verifier.log'),
    });
    expect(JSON.parse(JSON.stringify(m))).toEqual(m); // no undefined field anywhere
  });
});

describe('the edge origin read from compose.yaml', () => {
  it('is https://localhost:8443 with the default loopback bind and with EDGE_BIND=0.0.0.0', () => {
    expect(composeEdgeUrl(COMPOSE, {})).toBe('https://localhost:8443');
    expect(composeEdgeUrl(COMPOSE, { EDGE_BIND: '0.0.0.0' })).toBe('https://localhost:8443');
  });

  it('is refused with the reason when EDGE_BIND is an address localhost does not reach', () => {
    expect(() => composeEdgeUrl(COMPOSE, { EDGE_BIND: '192.0.2.7' })).toThrow(/EDGE_BIND=192\.0\.2\.7/);
  });

  it('is refused when the published port is not the port of PUBLIC_BASE_URL', () => {
    expect(() => composeEdgeUrl(COMPOSE.replace('"${EDGE_BIND:-127.0.0.1}:8443:8443"', '"${EDGE_BIND:-127.0.0.1}:9443:8443"'), {})).toThrow(
      /published on 9443/,
    );
  });
});

describe("the Docker engine probe (testcontainers' runtime client)", () => {
  it('answers false when DOCKER_HOST names a socket nobody listens on', async (ctx) => {
    const { getContainerRuntimeClient } = await import('testcontainers');
    // The client is found once per process: after a success, the probe cannot be pointed elsewhere.
    if (
      await getContainerRuntimeClient().then(
        () => true,
        () => false,
      )
    )
      return ctx.skip('an engine was already found in this process');
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${join(scratch, 'absent.sock')}`;
    try {
      expect(await dockerAvailable({ timeoutMs: 10_000 })).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});

describe('the CA copied out of a container archive', () => {
  it('is the regular file of the tar, past any PAX extended header, written owner-only under the given name', async () => {
    const dir = join(scratch, 'tar');
    const long = `${'d'.repeat(60)}/${'c'.repeat(60)}.crt`; // > 100 characters: forces a PAX header
    execFileSync('mkdir', ['-p', join(dir, 'd'.repeat(60))]);
    writeFileSync(join(dir, long), '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n', { mode: 0o644 });
    const tar = execFileSync('tar', ['--format=pax', '-cf', '-', '-C', dir, long]);
    const out = join(scratch, 'out', 'ca.crt');
    mkdirSync(join(scratch, 'out'));
    await extractOneFile(Readable.from([tar]), out);
    expect(readFileSync(out, 'utf8')).toBe('-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(scratch, 'out'))).toEqual(['ca.crt']);
  });
});

describe('the stack fixture under STACK_RUNTIME=compose', () => {
  it('refuses with one clear error naming the missing engine, instead of falling back to the native stack', async () => {
    const saved = { runtime: process.env.STACK_RUNTIME, host: process.env.DOCKER_HOST };
    process.env.STACK_RUNTIME = 'compose';
    process.env.DOCKER_HOST = `unix://${join(scratch, 'no-engine.sock')}`;
    try {
      const { default: setup } = await import('../harness/global-setup.ts');
      const provided: unknown[] = [];
      await expect(setup({ provide: (...a: unknown[]) => provided.push(a) } as never)).rejects.toThrow(
        /^STACK_RUNTIME=compose needs a reachable Docker engine \(none at unix:\/\/.*no-engine\.sock\)/,
      );
      expect(provided).toEqual([]);
    } finally {
      for (const [k, v] of [
        ['STACK_RUNTIME', saved.runtime],
        ['DOCKER_HOST', saved.host],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

/**
 * The compose runtime of the test harness (tests/harness/compose-runtime.ts): a live smoke test where a Docker
 * engine answers, and, everywhere, the parts that need none — the manifest, the edge origin, the engine probe.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildComposeManifest, composeEdgeUrl } from '../harness/compose-manifest.ts';
import { dockerAvailable, firstFileOfTar, startComposeStack } from '../harness/compose-runtime.ts';
import { fetchWithCa } from '../harness/http.ts';
import { serviceAgentToken } from '../harness/tokens.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const COMPOSE = readFileSync(resolve(ROOT, 'compose.yaml'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'compose-runtime-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the compose runtime against a Docker engine', () => {
  it('brings compose.yaml up on health and its edge refuses an anonymous call and serves a client-credentials token', { timeout: 900_000 }, async (ctx) => {
    if (!(await dockerAvailable())) return ctx.skip('no Docker engine reachable during npm test: compose.yaml is checked statically here (tests/compose/*) and run live by npm run test:compose, which .ci/run calls next');
    const stack = await startComposeStack();
    try {
      const m = stack.manifest;
      const f = fetchWithCa(m.caFile);
      const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'smoke', version: '0' } } });
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      const anonymous = await f(m.resources.readOnly, { method: 'POST', headers, body: initialize });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain(`resource_metadata="${m.edgeUrl}/.well-known/oauth-protected-resource/mcp"`);
      const t = await serviceAgentToken(m);
      const ok = await f(m.resources.readOnly, { method: 'POST', headers: { ...headers, authorization: `Bearer ${t.access_token}` }, body: initialize });
      expect(ok.status).toBe(200);
    } finally {
      await stack.stop();
    }
  });
});

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
    expect(m).toMatchObject({ runtime: 'compose', edgeUrl: 'https://localhost:8443', clientEdgeUrl: 'https://localhost:8443', issuer: 'https://localhost:8443/realms/mcp' });
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

  it('points the database at the mongod replica set inside the data network with the mcp servers\' TLS files', () => {
    // A seed list is not a WHATWG URL (several host:port), so the parts are read with a pattern.
    const [, user, hosts, query] = /^mongodb:\/\/([^:]+):[^@]+@([^/]+)\/\?(.*)$/.exec(m.database.uri) ?? [];
    expect(m.database).toMatchObject({ kind: 'mongod', name: 'shop' });
    expect(user).toBe('admin');
    expect(hosts).toBe('mongo1:27017,mongo2:27017,mongo3:27017');
    expect(Object.fromEntries(new URLSearchParams(query))).toMatchObject({ replicaSet: 'rs0', tls: 'true', tlsCAFile: '/run/credentials/ca.crt', authSource: 'admin' });
  });

  it('reads the audit from the followed stderr of the tiers whose compose audit target is stderr', () => {
    expect(COMPOSE.match(/MDB_MCP_AUDIT_LOG: stderr/g)).toHaveLength(1); // mcp-rw inherits mcp-ro's env anchor
    expect(COMPOSE).toContain('VERIFIER_AUDIT_LOG: stderr');
    expect(m.auditLog).toEqual({ readOnly: join(scratch, 'logs/mcp-ro.log'), readWrite: join(scratch, 'logs/mcp-rw.log'), verifier: join(scratch, 'logs/verifier.log') });
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
    expect(() => composeEdgeUrl(COMPOSE.replace('"${EDGE_BIND:-127.0.0.1}:8443:8443"', '"${EDGE_BIND:-127.0.0.1}:9443:8443"'), {})).toThrow(/published on 9443/);
  });
});

describe('the Docker engine probe', () => {
  const listen = (s: Server, at: string | number) => new Promise<void>((ok) => s.listen(at as never, ok));

  it('answers false at once when the socket does not exist', async () => {
    expect(await dockerAvailable({ env: { DOCKER_HOST: `unix://${join(scratch, 'absent.sock')}` } })).toBe(false);
  });

  it('answers true for an engine that answers GET /_ping with 200 on a unix socket', async () => {
    const sock = join(scratch, 'engine.sock');
    const s = createServer((req, res) => res.writeHead(req.url === '/_ping' ? 200 : 404).end('OK'));
    await listen(s, sock);
    try {
      expect(await dockerAvailable({ env: { DOCKER_HOST: `unix://${sock}` } })).toBe(true);
    } finally {
      s.close();
    }
  });

  it('answers false, within its bound, for a tcp endpoint that accepts and never replies', async () => {
    const s = createServer(() => undefined); // holds every request open
    await listen(s, 0);
    const port = (s.address() as { port: number }).port;
    try {
      expect(await dockerAvailable({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` }, timeoutMs: 200 })).toBe(false);
    } finally {
      s.closeAllConnections();
      s.close();
    }
  });

  it('does not probe endpoints it cannot speak to (ssh://)', async () => {
    expect(await dockerAvailable({ env: { DOCKER_HOST: 'ssh://user@127.0.0.1' } })).toBe(false);
  });
});

describe('the CA copied out of a container archive', () => {
  it('is the regular file of the tar, past any PAX extended header', () => {
    const dir = join(scratch, 'tar');
    const long = `${'d'.repeat(60)}/${'c'.repeat(60)}.crt`; // > 100 characters: forces a PAX header
    execFileSync('mkdir', ['-p', join(dir, 'd'.repeat(60))]);
    writeFileSync(join(dir, long), '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n');
    const tar = execFileSync('tar', ['--format=pax', '-cf', '-', '-C', dir, long]);
    expect(firstFileOfTar(tar).toString()).toBe('-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n');
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
      await expect(setup({ provide: (...a: unknown[]) => provided.push(a) } as never)).rejects.toThrow(/^STACK_RUNTIME=compose needs a reachable Docker engine \(none at unix:\/\/.*no-engine\.sock\)/);
      expect(provided).toEqual([]);
    } finally {
      for (const [k, v] of [['STACK_RUNTIME', saved.runtime], ['DOCKER_HOST', saved.host]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});

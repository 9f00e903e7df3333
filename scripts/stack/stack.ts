/**
 * The native stack, start to finish: topology, certificates and secrets, then the tiers in dependency
 * order (Keycloak — the slow one — alongside the database), each waited on by its health check, then the
 * manifest. Used by `npm start` and by the test harness's global setup. Any failure stops what was started
 * and throws with the failing tier's log tail; stop() leaves no process, namespace or manifest behind.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDatabase, ferretdbBinary, type Database } from './database.ts';
import { whichMongod } from './database-command.ts';
import { startKeycloak, defaultKeycloakHome, type Keycloak } from './keycloak.ts';
import {
  MANIFEST_PATH, ROOT, RUNNER_STATE_PATH, STACK_DIR, buildManifest, readJson, removeFile, writeManifest, writePrivateFile, writePrivateJson,
  type RunnerState, type StackManifest,
} from './manifest.ts';
import { startMcp, type McpServer } from './mcp.ts';
import { netnsCapable, setupNetns, teardownNetns } from './netns.ts';
import { NGINX_BIN, startNginx, type Edge } from './nginx.ts';
import { planFor } from './plan.ts';
import { run, waitFor, type Service } from './process.ts';
import { startVerifier, type Verifier } from './verifier.ts';

export interface StartStackOptions {
  /** No progress lines on stderr. */
  quiet?: boolean;
}

export interface RunningStack {
  manifest: StackManifest;
  services: Service[];
  /** Milliseconds from the call to each tier being healthy, and `total`. */
  timings: Record<string, number>;
  stop(): Promise<void>;
}

const CERTS = join(STACK_DIR, 'certs');
const SECRETS = join(STACK_DIR, 'secrets');
const LOGS = join(STACK_DIR, 'logs');
const secret = (name: string) => readFileSync(join(SECRETS, name), 'utf8').trim();

function assertProvisioned(): void {
  const missing = [
    existsSync(NGINX_BIN) ? null : `nginx (${NGINX_BIN})`,
    existsSync(join(defaultKeycloakHome(), '.built')) ? null : `a pre-built Keycloak (${defaultKeycloakHome()})`,
    whichMongod() || existsSync(ferretdbBinary()) ? null : 'mongod or FerretDB',
  ].filter(Boolean);
  if (missing.length) throw new Error(`not provisioned: missing ${missing.join(', ')}; run: npm run provision`);
}

function assertNotRunning(): void {
  const state = readJson<RunnerState>(RUNNER_STATE_PATH);
  if (!state || state.supervisorPid === process.pid) return;
  try {
    process.kill(state.supervisorPid, 0);
  } catch {
    return; // a crashed run: its leftovers are cleaned below
  }
  throw new Error(`a stack is already running (supervisor pid ${state.supervisorPid}); run: npm stop`);
}

/** HTTP status of an unauthenticated GET, from the host, trusting only our CA. */
function statusOf(url: string, caFile: string): Promise<number> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', '--cacert', caFile, url], (_e, out) => resolve(Number(out) || 0));
  });
}

export async function startStack(opts: StartStackOptions = {}): Promise<RunningStack> {
  const log = (l: string) => { if (!opts.quiet) process.stderr.write(`[stack] ${l}\n`); };
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const mark = (tier: string) => { timings[tier] = Date.now() - t0; log(`${tier} ready (${(timings[tier] / 1000).toFixed(1)} s)`); };
  assertProvisioned();
  assertNotRunning();
  const cap = await netnsCapable();
  const plan = planFor(cap.ok ? 'netns' : 'loopback');
  if (!cap.ok) log(`network namespaces unavailable (${cap.reason}): every tier on 127.0.0.1 — weaker isolation`);
  await teardownNetns(); // leftovers of a crashed run (harmless when there are none)
  const stoppers: (() => Promise<void>)[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    for (const s of stoppers.reverse()) await s().catch(() => undefined);
    if (plan.isolation === 'netns') await teardownNetns();
    for (const f of [MANIFEST_PATH, join(SECRETS, 'mcp_ro_uri'), join(SECRETS, 'mcp_rw_uri')]) removeFile(f);
    if (readJson<RunnerState>(RUNNER_STATE_PATH)?.supervisorPid === process.pid) removeFile(RUNNER_STATE_PATH);
  })());
  if (plan.isolation === 'netns') await setupNetns();
  const edgeUrl = `https://${plan.edge.publicHost}:${plan.edge.port}`;
  const services: Service[] = [];
  const started = <T extends { service: Service; stop?: () => Promise<void> }>(tier: string, x: T): T => {
    services.push(x.service);
    stoppers.push(x.stop ?? (() => x.service.stop()));
    mark(tier);
    return x;
  };
  try {
    await Promise.all([run('bash', [join(ROOT, 'scripts/certs.sh'), CERTS]), run('bash', [join(ROOT, 'scripts/secrets.sh'), SECRETS])]);
    const caFile = join(CERTS, 'ca.crt');
    const authTier = async (): Promise<{ kc: Keycloak; verifier: Verifier }> => {
      const kc = started('keycloak', await startKeycloak({
        dataDir: join(STACK_DIR, 'keycloak'), host: plan.keycloak.bind, port: plan.keycloak.port, mgmtPort: plan.keycloak.mgmtPort,
        publicBaseUrl: edgeUrl, netns: plan.ns.kc, logFile: join(LOGS, 'keycloak.log'),
        secrets: {
          adminPassword: secret('kc_admin_password'), serviceAgentSecret: secret('service_agent_secret'),
          exchangerSecret: secret('exchanger_secret'), analystPassword: secret('analyst_password'), operatorPassword: secret('operator_password'),
        },
      }));
      const verifier = started('verifier', await startVerifier({
        port: plan.verifierPort, issuer: kc.issuer, publicBaseUrl: edgeUrl, netns: plan.ns.edge,
        // The verifier fetches keys over the edge⇄kc link; tokens still name the public issuer.
        jwksUrl: `http://${plan.keycloak.fromEdge}:${plan.keycloak.port}/realms/mcp/protocol/openid-connect/certs`,
        auditLog: join(LOGS, 'verifier.audit.jsonl'), logFile: join(LOGS, 'verifier.log'),
      }));
      return { kc, verifier };
    };
    const dataTier = async (): Promise<{ db: Database; ro: McpServer; rw: McpServer }> => {
      const db = started('database', await startDatabase({
        dir: join(STACK_DIR, 'db'), host: plan.db.bind, port: plan.db.port, connectHost: plan.db.fromHost, netns: plan.ns.db,
        certsDir: CERTS, secretsDir: SECRETS, logFile: join(LOGS, 'database.log'), log: (l) => log(`database: ${l}`),
      }));
      const mcp = (name: 'mcp-ro' | 'mcp-rw', user: 'reader' | 'writer', port: number) => {
        const uriFile = join(SECRETS, `${name.replace('-', '_')}_uri`);
        writePrivateFile(uriFile, db.uriFor(user, plan.db.fromEdge));
        return startMcp({
          name, readOnly: user === 'reader', port, connectionStringFile: uriFile, proxySecretFile: join(SECRETS, 'proxy_secret'),
          allowedHosts: [`${plan.edge.publicHost}:${plan.edge.port}`], auditLog: join(LOGS, `${name}.audit.jsonl`),
          netns: plan.ns.edge, logFile: join(LOGS, `${name}.log`),
        }).then((m) => started(name, m));
      };
      const [ro, rw] = await settleAll([mcp('mcp-ro', 'reader', plan.mcpRoPort), mcp('mcp-rw', 'writer', plan.mcpRwPort)]);
      return { db, ro, rw };
    };
    const [auth, data] = await settleAll([authTier(), dataTier()]);
    const edge: Edge = started('nginx', await startNginx({
      prefix: join(STACK_DIR, 'nginx'), netns: plan.ns.edge, logFile: join(LOGS, 'nginx.log'), proxySecretFile: join(SECRETS, 'proxy_secret'),
      vars: {
        PUBLIC_BASE_URL: edgeUrl, PUBLIC_HOST: `${plan.edge.publicHost}:${plan.edge.port}`, EDGE_LISTEN: plan.edge.listen,
        EDGE_HTTP_LISTEN: plan.edge.httpListen, TLS_CERT: join(CERTS, 'edge.crt'), TLS_KEY: join(CERTS, 'edge.key'),
        VERIFIER_UPSTREAM: `127.0.0.1:${plan.verifierPort}`, MCP_RO_UPSTREAM: `127.0.0.1:${plan.mcpRoPort}`,
        MCP_RW_UPSTREAM: `127.0.0.1:${plan.mcpRwPort}`, KEYCLOAK_UPSTREAM: `${plan.keycloak.fromEdge}:${plan.keycloak.port}`,
        EDGE_ACCESS_LOG: join(LOGS, 'nginx-access.log'),
      },
    }));
    // All-healthy = an anonymous request to the resource gets the OAuth challenge end to end.
    await waitFor('edge 401 on /mcp', async () => (await statusOf(`${edgeUrl}/mcp`, caFile)) === 401, { service: edge.service, timeoutMs: 15_000 });
    timings.total = Date.now() - t0;
    const manifest = buildManifest({ plan, edgeUrl, issuer: auth.kc.issuer, caFile, db: data.db, logsDir: LOGS, secretsDir: SECRETS, nginxPrefix: join(STACK_DIR, 'nginx'),
      pids: Object.fromEntries(services.map((s) => [s.name, s.pid])),
    });
    writeManifest(manifest);
    writePrivateJson(RUNNER_STATE_PATH, { supervisorPid: process.pid, pids: services.map((s) => s.pid), isolation: plan.isolation, startedAt: new Date().toISOString() } satisfies RunnerState);
    return { manifest, services, timings, stop };
  } catch (e) {
    log(`start failed; stopping what was started`);
    await stop();
    throw e;
  }
}

/** Like Promise.all, but waits for every branch before rejecting, so nothing is left starting unobserved. */
async function settleAll<T extends readonly unknown[]>(ps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const rs = await Promise.allSettled(ps);
  const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return rs.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

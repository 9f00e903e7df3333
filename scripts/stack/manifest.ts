/**
 * The stack manifest (docs/architecture.md "Stack manifest"): the one file through which tests, benchmarks
 * and tools find a running stack. It holds secrets (client secrets, passwords, the admin URI), so it is
 * written 0600 and atomically (a reader never sees half a file), and deleted when the stack stops.
 */
import { writeFileSync, renameSync, rmSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AGENT_REDIRECT_URI, CLIENTS, METRICS_PORTS, ROUTES, USERS, type SecretName } from '../../contract/contract.ts';
import type { Database } from './database.ts';
import type { Isolation } from './netns.ts';
import { internalEndpoints, type Plan } from './plan.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const STACK_DIR = resolve(ROOT, '.stack');
export const MANIFEST_PATH = resolve(STACK_DIR, 'manifest.json');
/** The supervisor's record for `npm stop`: its pid, every child pid and whether namespaces exist. */
export const RUNNER_STATE_PATH = resolve(STACK_DIR, 'runner.json');

export interface Endpoint {
  name: string;
  host: string;
  port: number;
}

export interface StackManifest {
  runtime: 'native' | 'compose';
  isolation: Isolation;
  caFile: string;
  edgeUrl: string;
  issuer: string;
  resources: { readOnly: string; readWrite: string };
  direct: { readOnly: string; readWrite: string; netns: string | null };
  verifier: { url: string; netns: string | null };
  clientNetns: string | null;
  clientEdgeUrl: string;
  /** Addresses of the back tiers as seen from the client namespace: each must refuse or drop a connect. */
  internal: Endpoint[];
  database: { uri: string; kind: string; name: string };
  clients: {
    service: { id: string; secret: string };
    agent: { id: string; redirectUri: string };
    exchange: { id: string; secret: string };
  };
  users: Record<'analyst' | 'operator', { username: string; password: string }>;
  auditLog: { readOnly: string; readWrite: string; verifier: string };
  logs: Record<string, string>;
  proxySecretFile: string;
  /** Where the generated secrets live (tests scan logs for every one of them). */
  secretsDir: string;
  /** The edge's address on the client's link: the next hop for a client that tries to route through it. */
  edgeAddressForClient: string;
  /**
   * Scrape endpoints (Prometheus text, nginx stub_status), each on a loopback-only listener in the edge
   * namespace that nginx does not route: reachable from `netns` only (null under compose: the proxy's netns).
   */
  metrics: Record<'mcpReadOnly' | 'mcpReadWrite' | 'verifier' | 'nginx', { url: string; netns: string | null }>;
  /** Native only: the pid of each tier's main process (tests pause the verifier to prove fail-closed). */
  pids?: Record<string, number>;
  /**
   * Native only: Keycloak's own HTTP listener as the host reaches it. Its admin API is never served at the
   * edge; tests that must change the realm (e.g. issue an over-long token) use it with the bootstrap admin.
   */
  keycloakInternalUrl?: string;
}

export interface RunnerState {
  supervisorPid: number;
  pids: number[];
  isolation: Isolation;
  startedAt: string;
}

/** Writes `text` with mode 0600 via a temporary file and rename (no window with looser permissions). */
export function writePrivateFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

export function writePrivateJson(path: string, data: unknown): void {
  writePrivateFile(path, `${JSON.stringify(data, null, 2)}\n`);
}

export interface ManifestInputs {
  plan: Plan;
  edgeUrl: string;
  issuer: string;
  caFile: string;
  db: Database;
  logsDir: string;
  secretsDir: string;
  nginxPrefix: string;
  pids: Record<string, number>;
}

/** The manifest of a native stack; secrets are read from the generated files, never invented here. */
export function buildManifest(i: ManifestInputs): StackManifest {
  const { plan, edgeUrl } = i;
  const log = (name: string) => resolve(i.logsDir, name);
  return {
    runtime: 'native',
    isolation: plan.isolation,
    caFile: i.caFile,
    edgeUrl,
    issuer: i.issuer,
    resources: resourcesOf(edgeUrl),
    direct: { readOnly: directUrl(plan.mcpRoPort), readWrite: directUrl(plan.mcpRwPort), netns: plan.ns.edge },
    verifier: { url: `http://127.0.0.1:${plan.verifierPort}`, netns: plan.ns.edge },
    metrics: metricsEndpoints(plan.ns.edge),
    clientNetns: plan.ns.client,
    clientEdgeUrl: edgeUrl,
    internal: internalEndpoints(plan),
    database: { uri: i.db.adminUri, kind: i.db.kind, name: i.db.dbName },
    ...realmIdentities(i.secretsDir),
    auditLog: { readOnly: log('mcp-ro.audit.jsonl'), readWrite: log('mcp-rw.audit.jsonl'), verifier: log('verifier.audit.jsonl') },
    logs: {
      nginx: log('nginx.log'),
      nginxError: resolve(i.nginxPrefix, 'logs/error.log'),
      nginxAccess: log('nginx-access.log'),
      keycloak: log('keycloak.log'),
      database: log('database.log'),
      verifier: log('verifier.log'),
      mcpRo: log('mcp-ro.log'),
      mcpRw: log('mcp-rw.log'),
      dcrReaper: log('dcr-reaper.log'),
    },
    proxySecretFile: resolve(i.secretsDir, 'proxy_secret' satisfies SecretName),
    secretsDir: i.secretsDir,
    edgeAddressForClient: plan.edge.publicHost,
    pids: i.pids,
    keycloakInternalUrl: `http://${plan.keycloak.fromHost}:${plan.keycloak.port}`,
  };
}

/** The two MCP resources at the edge: their URLs are the token audiences (docs/architecture.md). */
export function resourcesOf(edgeUrl: string): StackManifest['resources'] {
  return { readOnly: `${edgeUrl}${ROUTES.readOnly}`, readWrite: `${edgeUrl}${ROUTES.readWrite}` };
}

/** The scrape endpoints inside the edge namespace (contract METRICS_PORTS; the same in both runtimes). */
export function metricsEndpoints(netns: string | null): StackManifest['metrics'] {
  const at = (port: number, path: string) => ({ url: `http://127.0.0.1:${port}${path}`, netns });
  return {
    mcpReadOnly: at(METRICS_PORTS.mcpReadOnly, '/metrics'),
    mcpReadWrite: at(METRICS_PORTS.mcpReadWrite, '/metrics'),
    verifier: at(METRICS_PORTS.verifier, '/metrics'),
    nginx: at(METRICS_PORTS.nginxStatus, '/stub_status'),
  };
}

/** An MCP server's own address inside the edge namespace (loopback there, in both runtimes). */
export function directUrl(port: number): string {
  return `http://127.0.0.1:${port}${ROUTES.mcpUpstream}`;
}

export function writeManifest(m: StackManifest, path = MANIFEST_PATH): void {
  writePrivateJson(path, m);
}

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function removeFile(path: string): void {
  rmSync(path, { force: true });
}

/**
 * The realm's agents and users (keycloak/realm-mcp.json) with their generated secrets: the same for every
 * runtime, because both import the same realm file and read the same secrets directory.
 */
export function realmIdentities(secretsDir: string): Pick<StackManifest, 'clients' | 'users'> {
  const secret = (name: SecretName) => readSecret(secretsDir, name);
  return {
    clients: {
      service: { id: CLIENTS.service, secret: secret('service_agent_secret') },
      agent: { id: CLIENTS.agent, redirectUri: AGENT_REDIRECT_URI },
      exchange: { id: CLIENTS.exchange, secret: secret('exchanger_secret') },
    },
    users: {
      analyst: { username: USERS.analyst, password: secret('analyst_password') },
      operator: { username: USERS.operator, password: secret('operator_password') },
    },
  };
}

/** One generated secret (scripts/secrets.sh writes one value per 0600 file). */
export function readSecret(secretsDir: string, name: SecretName): string {
  return readFileSync(resolve(secretsDir, name), 'utf8').trim();
}

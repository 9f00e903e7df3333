/**
 * Starting each tier of the native stack where the plan puts it, wired to the others. Three chains:
 * auth (Keycloak → verifier), data (database → both MCP servers) and, once both are healthy, the edge.
 * Each tier is registered with a function that starts it again with the same options, for the supervisor.
 */
import { join } from 'node:path';
import type { SecretName } from '../../contract/contract.ts';
import { startReaper } from '../dcr/start.ts';
import { startDatabase, type Database } from './database.ts';
import { startKeycloak, type Keycloak } from './keycloak.ts';
import { STACK_DIR, readSecret, writePrivateFile } from './manifest.ts';
import { startMcp } from './mcp.ts';
import { startNginx, type Edge } from './nginx.ts';
import type { Plan } from './plan.ts';
import type { Service } from './process.ts';
import { startVerifier } from './verifier.ts';

export const CERTS = join(STACK_DIR, 'certs');
export const SECRETS = join(STACK_DIR, 'secrets');
export const LOGS = join(STACK_DIR, 'logs');
const secret = (name: SecretName) => readSecret(SECRETS, name);

export interface TierContext {
  plan: Plan;
  edgeUrl: string;
  /**
   * Registers a healthy tier for stop() and the runner state, with the function that starts it again with the
   * same options (the supervisor restarts a tier that exits; see supervisor.ts).
   */
  started: <T extends { service: Service }>(tier: string, x: T, again: () => Promise<{ service: Service }>) => T;
  log: (line: string) => void;
}

/** Names the tier in any failure that does not already. */
async function tier<T>(name: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith(name) ? msg : `${name}: ${msg}`, { cause: e });
  }
}

export async function startAuthTier(c: TierContext): Promise<{ kc: Keycloak }> {
  const { plan, edgeUrl } = c;
  const keycloak = () =>
    tier(
      'keycloak',
      startKeycloak({
        dataDir: join(STACK_DIR, 'keycloak'),
        host: plan.keycloak.bind,
        port: plan.keycloak.port,
        mgmtPort: plan.keycloak.mgmtPort,
        publicBaseUrl: edgeUrl,
        netns: plan.ns.kc,
        logFile: join(LOGS, 'keycloak.log'),
        secrets: {
          adminPassword: secret('kc_admin_password'),
          serviceAgentSecret: secret('service_agent_secret'),
          exchangerSecret: secret('exchanger_secret'),
          dcrReaperSecret: secret('dcr_reaper_secret'),
          analystPassword: secret('analyst_password'),
          operatorPassword: secret('operator_password'),
        },
      }),
    );
  const kc = c.started('keycloak', await keycloak(), keycloak);
  const verifier = () =>
    tier(
      'verifier',
      startVerifier({
        port: plan.verifierPort,
        issuer: kc.issuer,
        publicBaseUrl: edgeUrl,
        netns: plan.ns.edge,
        // Keys come over the edge⇄kc link; tokens still name the public issuer (RFC 8414 §3.3 exact match).
        jwksUrl: `http://${plan.keycloak.fromEdge}:${plan.keycloak.port}/realms/mcp/protocol/openid-connect/certs`,
        auditLog: join(LOGS, 'verifier.audit.jsonl'),
        logFile: join(LOGS, 'verifier.log'),
        metricsPort: plan.metricsPorts.verifier,
      }),
    );
  c.started('verifier', await verifier(), verifier);
  // Expires anonymous registrations nobody used (issue #12: the realm's client cap is shared by everyone).
  const reaper = () =>
    tier(
      'dcr-reaper',
      startReaper({
        keycloakUrl: kc.internalUrl,
        clientSecretFile: join(SECRETS, 'dcr_reaper_secret'),
        netns: plan.ns.kc,
        logFile: join(LOGS, 'dcr-reaper.log'),
      }),
    );
  c.started('dcr-reaper', await reaper(), reaper);
  return { kc };
}

export async function startDataTier(c: TierContext): Promise<{ db: Database }> {
  const { plan } = c;
  // Started again on the same data directory and port: users and data survive, the URIs stay valid.
  const database = () =>
    tier(
      'database',
      startDatabase({
        dir: join(STACK_DIR, 'db'),
        host: plan.db.bind,
        port: plan.db.port,
        connectHost: plan.db.fromHost,
        netns: plan.ns.db,
        certsDir: CERTS,
        secretsDir: SECRETS,
        logFile: join(LOGS, 'database.log'),
        log: (l) => c.log(`database: ${l}`),
      }),
    );
  const db = c.started('database', await database(), database);
  const mcp = async (name: 'mcp-ro' | 'mcp-rw', user: 'reader' | 'writer', port: number) => {
    // The URI holds the tier's password: a 0600 file read by the server, never argv or a logged env.
    const uriFile = join(SECRETS, `${name.replace('-', '_')}_uri`);
    // Written once: a restarted server reads the same file, which lives until the stack stops.
    writePrivateFile(uriFile, db.uriFor(user, plan.db.fromEdge));
    const server = () =>
      tier(
        name,
        startMcp({
          name,
          readOnly: user === 'reader',
          port,
          connectionStringFile: uriFile,
          proxySecretFile: join(SECRETS, 'proxy_secret'),
          allowedHosts: [`${plan.edge.publicHost}:${plan.edge.port}`],
          auditLog: join(LOGS, `${name}.audit.jsonl`),
          netns: plan.ns.edge,
          logFile: join(LOGS, `${name}.log`),
          metricsPort: user === 'reader' ? plan.metricsPorts.mcpReadOnly : plan.metricsPorts.mcpReadWrite,
        }),
      );
    c.started(name, await server(), server);
  };
  const rs = await Promise.allSettled([mcp('mcp-ro', 'reader', plan.mcpRoPort), mcp('mcp-rw', 'writer', plan.mcpRwPort)]);
  for (const r of rs) if (r.status === 'rejected') throw r.reason;
  return { db };
}

/**
 * The edge's per-IP rate limit an operator may set from the runner's environment, like the MCP servers' load limits
 * (mcp.ts): a soak or benchmark drives hundreds of calls per second from one address. Defaults: nginx.ts EDGE_DEFAULTS.
 */
const edgeLoadLimits = (): { EDGE_RATE_LIMIT?: string; EDGE_RATE_BURST?: string } =>
  Object.fromEntries((['EDGE_RATE_LIMIT', 'EDGE_RATE_BURST'] as const).flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])));

export async function startEdgeTier(c: TierContext): Promise<Edge> {
  const { plan, edgeUrl } = c;
  const nginx = () =>
    tier(
      'nginx',
      startNginx({
        prefix: join(STACK_DIR, 'nginx'),
        netns: plan.ns.edge,
        logFile: join(LOGS, 'nginx.log'),
        proxySecretFile: join(SECRETS, 'proxy_secret'),
        vars: {
          PUBLIC_BASE_URL: edgeUrl,
          PUBLIC_HOST: `${plan.edge.publicHost}:${plan.edge.port}`,
          EDGE_LISTEN: plan.edge.listen,
          EDGE_HTTP_LISTEN: plan.edge.httpListen,
          EDGE_STATUS_LISTEN: `127.0.0.1:${plan.metricsPorts.nginxStatus}`,
          TLS_CERT: join(CERTS, 'edge.crt'),
          TLS_KEY: join(CERTS, 'edge.key'),
          VERIFIER_UPSTREAM: `127.0.0.1:${plan.verifierPort}`,
          MCP_RO_UPSTREAM: `127.0.0.1:${plan.mcpRoPort}`,
          MCP_RW_UPSTREAM: `127.0.0.1:${plan.mcpRwPort}`,
          KEYCLOAK_UPSTREAM: `${plan.keycloak.fromEdge}:${plan.keycloak.port}`,
          EDGE_ACCESS_LOG: join(LOGS, 'nginx-access.log'),
          ...edgeLoadLimits(),
        },
      }),
    );
  return c.started('nginx', await nginx(), nginx);
}

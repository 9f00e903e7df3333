/**
 * The stack manifest of a compose run (docs/architecture.md "Stack manifest"): the same type the native
 * runner writes, so the suites cannot tell the runtimes apart except where the topology really differs.
 * Pure: reads compose.yaml and the generated secrets, starts nothing (tests/compose/compose-runtime.test.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { DATABASE_NAME, PORTS, REALM } from '../../contract/contract.ts';
import { directUrl, metricsEndpoints, readSecret, realmIdentities, resourcesOf, type StackManifest } from '../../scripts/stack/manifest.ts';

/** Hosts through which `https://localhost:<port>` reaches a port published on EDGE_BIND. */
const LOCAL_BINDS = new Set(['127.0.0.1', '0.0.0.0', '::', '[::]', '::1', '[::1]', 'localhost']);

interface ComposeFile {
  services?: Record<string, { environment?: Record<string, string>; ports?: string[] }>;
}

/**
 * The edge origin as the tests must use it. It is PUBLIC_BASE_URL from compose.yaml, not the published
 * address: Keycloak's issuer, the token audiences and the edge certificate all name it, and nginx answers
 * 403 to any other Host (DNS rebinding). So the published port must equal its port, and EDGE_BIND must be
 * an address that `localhost` reaches; otherwise this fails with the reason instead of a confusing 403.
 */
export function composeEdgeUrl(composeText: string, env: Record<string, string | undefined>): string {
  const proxy = (parse(composeText) as ComposeFile).services?.proxy;
  const base = proxy?.environment?.PUBLIC_BASE_URL;
  const port = proxy?.ports?.find((p) => p.endsWith(`:${PORTS.edgeHttps}`));
  if (!base || !port) throw new Error(`compose.yaml: services.proxy needs PUBLIC_BASE_URL and a published ${PORTS.edgeHttps}`);
  // "${EDGE_BIND:-127.0.0.1}:8443:8443" → bind expression, host port (compose interpolation, default after :-).
  const m = new RegExp(`^(?:\\$\\{EDGE_BIND:-([^}]*)\\}|([^:]+)):(\\d+):${PORTS.edgeHttps}$`).exec(port);
  if (!m) throw new Error(`compose.yaml: cannot read the proxy's published port "${port}"`);
  const bind = m[2] ?? (env.EDGE_BIND || m[1] || '0.0.0.0');
  const url = new URL(base);
  if (url.port !== m[3]) throw new Error(`compose.yaml: the edge is published on ${m[3]} but PUBLIC_BASE_URL says ${base}`);
  if (!LOCAL_BINDS.has(bind)) throw new Error(`EDGE_BIND=${bind}: the tests reach the edge as ${url.host}, which must be a local address; unset EDGE_BIND`);
  return url.origin;
}

/** KEY=VALUE lines of compose's `.env` (only what EDGE_BIND needs: no quoting, no interpolation). */
export function readDotEnv(path: string): Record<string, string> {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[1]) out[m[1]] = (m[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

export interface ComposeManifestInputs {
  edgeUrl: string;
  secretsDir: string;
  /** The stack's CA, copied out of the proxy's credential volume. */
  caFile: string;
  /** Where the container logs are followed into one file per service (see compose-runtime.ts). */
  logsDir: string;
  /** compose.yaml: the mongod replica set; compose.offline.yaml: one FerretDB server. Default mongod. */
  database?: ComposeDatabase;
}

export type ComposeDatabase = 'mongod' | 'ferretdb';

/**
 * URLs in `direct` and `database.uri` are as seen INSIDE the stack (the edge netns; mcp-ro's credential
 * paths): the host cannot reach them — that is the point of the topology — so `direct.netns` and
 * `clientNetns` are null and `internal` is empty (the client-namespace probes skip under compose).
 */
export function buildComposeManifest(i: ComposeManifestInputs): StackManifest {
  const log = (name: string) => resolve(i.logsDir, `${name}.log`);
  const { edgeUrl } = i;
  const database = i.database ?? 'mongod';
  // The same shape as scripts/compose/credentials.sh writes for mcp-ro/mcp-rw, with the admin user.
  const db = PORTS.database;
  const hosts = database === 'mongod' ? `mongo1:${db},mongo2:${db},mongo3:${db}/?replicaSet=rs0` : `mongo1:${db}/?directConnection=true`;
  const dbUri =
    `mongodb://admin:${encodeURIComponent(readSecret(i.secretsDir, 'db_admin_password'))}@${hosts}` +
    '&tls=true&tlsCAFile=/run/credentials/ca.crt&tlsCertificateKeyFile=/run/credentials/client.pem' +
    '&authSource=admin&authMechanism=SCRAM-SHA-256';
  const members: Record<string, string> = database === 'mongod' ? { database2: log('mongo2'), database3: log('mongo3') } : {};
  return {
    runtime: 'compose',
    // Reused, not extended: each container is a Linux network namespace and the verifier and MCP servers share
    // the proxy's, like the native `mcps-edge`; `runtime: 'compose'` tells the two apart.
    isolation: 'netns',
    caFile: i.caFile,
    edgeUrl,
    issuer: `${edgeUrl}/realms/${REALM}`,
    resources: resourcesOf(edgeUrl),
    direct: { readOnly: directUrl(PORTS.mcpReadOnly), readWrite: directUrl(PORTS.mcpReadWrite), netns: null },
    verifier: { url: `http://127.0.0.1:${PORTS.verifier}`, netns: null },
    metrics: metricsEndpoints(null),
    clientNetns: null,
    clientEdgeUrl: edgeUrl,
    internal: [],
    database: { uri: dbUri, kind: database, name: DATABASE_NAME },
    ...realmIdentities(i.secretsDir),
    // MDB_MCP_AUDIT_LOG and VERIFIER_AUDIT_LOG are `stderr` in compose.yaml: the audit is the JSON lines of
    // the followed container log (readAudit keeps only lines starting with `{`; diagnostics are plain text).
    auditLog: { readOnly: log('mcp-ro'), readWrite: log('mcp-rw'), verifier: log('verifier') },
    logs: {
      nginx: log('proxy'),
      keycloak: log('keycloak'),
      database: log('mongo1'),
      ...members,
      verifier: log('verifier'),
      mcpRo: log('mcp-ro'),
      mcpRw: log('mcp-rw'),
      dcrReaper: log('dcr-reaper'),
    },
    proxySecretFile: resolve(i.secretsDir, 'proxy_secret'),
    secretsDir: i.secretsDir,
    edgeAddressForClient: new URL(edgeUrl).hostname,
    pids: {},
  };
}

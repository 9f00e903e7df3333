/**
 * The contract between the tiers (docs/architecture.md), as code: ports, header names, routes, scopes, roles,
 * client ids, write tools, secret names, container uids and pinned versions. The server, the verifier, the native
 * runner (scripts/stack/*) and both manifest builders import it; tests/unit/contract.test.ts checks the files that
 * cannot import TypeScript (compose.yaml, keycloak/realm-mcp.json, nginx/templates, scripts/*.sh) against it.
 *
 * Erasable syntax and no imports beyond node:*: the server and verifier images copy this one file next to
 * their sources (server/Dockerfile, nginx/verifier/Dockerfile) and run it with Node's type stripping.
 */
import { readFileSync } from 'node:fs';

/** Where each tier listens inside its own network namespace (native `mcps-*` and compose alike). */
export const PORTS = {
  /** nginx's TLS listener: the only published port. */
  edgeHttps: 8443,
  /** nginx's plain-http listener: redirects to https only; never published under compose. */
  edgeHttp: 8080,
  verifier: 9191,
  mcpReadOnly: 3001,
  mcpReadWrite: 3002,
  keycloakHttp: 8080,
  /** Keycloak's management interface (/health/ready): never proxied, never published. */
  keycloakManagement: 9000,
  database: 27017,
} as const;

/**
 * Scrape endpoints, each on a listener of its own bound to 127.0.0.1 in the edge namespace (native `mcps-edge`,
 * compose: the proxy's netns): nginx routes none of them, so they are never reachable from outside the edge.
 */
export const METRICS_PORTS = { mcpReadOnly: 9401, mcpReadWrite: 9402, verifier: 9403, nginxStatus: 9404 } as const;

/** Without namespaces every tier shares 127.0.0.1, so Keycloak moves off nginx's 8080 (scripts/stack/plan.ts). */
export const LOOPBACK_PORTS = { keycloakHttp: 18080, keycloakManagement: 19000 } as const;

/** The realm, its scopes and roles (keycloak/realm-mcp.json). */
export const REALM = 'mcp';
export const SCOPES = { read: 'mcp:read', write: 'mcp:write' } as const;
export const ROLES = { reader: 'mcp-reader', writer: 'mcp-writer' } as const;
export const CLIENTS = { service: 'mcp-service-agent', agent: 'mcp-agent', exchange: 'mcp-exchanger', reaper: 'mcp-dcr-reaper' } as const;
/** The loopback redirect URI of the public client that the tests' browser login uses. */
export const AGENT_REDIRECT_URI = 'http://127.0.0.1:33418/callback';
export const USERS = { analyst: 'analyst', operator: 'operator' } as const;

/** Public paths at the edge and the paths each tier serves behind it. */
export const ROUTES = {
  /** The read-only MCP resource at the edge (route `ro`, needs SCOPES.read). */
  readOnly: '/mcp',
  /** The read-write MCP resource at the edge (route `rw`, needs SCOPES.write and ROLES.writer). */
  readWrite: '/mcp/admin',
  /** Where both MCP servers serve MCP behind the edge. */
  mcpUpstream: '/mcp',
  /** The verifier's auth_request target. */
  verify: '/verify',
  /** Health of the verifier and the MCP servers (200 {"status":"ok"}). */
  health: '/healthz',
  /** RFC 9728 protected-resource metadata; the resource path follows it. */
  resourceMetadata: '/.well-known/oauth-protected-resource',
} as const;

/**
 * The MCP server's create/update/delete tools (server/src/tools/{create,update,delete}/). The verifier refuses
 * them by `Mcp-Name` on the read-only route (nginx/verifier/src/http/mcp-name.ts); a unit test holds the server's
 * registry to exactly this list (server/test/unit/policy-engine.test.ts).
 */
export const WRITE_TOOLS = [
  'insert-many',
  'create-index',
  'create-collection',
  'update-many',
  'rename-collection',
  'delete-many',
  'drop-collection',
  'drop-database',
  'drop-index',
] as const;

/** The value of X-MCP-Route for each edge route. */
export const ROUTE_IDS = { readOnly: 'ro', readWrite: 'rw' } as const;

/**
 * The identity the verifier asserts after a good token: it answers /verify with these headers, nginx copies
 * each with `auth_request_set` and sets it on the MCP upstream (overwriting any client value), and the MCP
 * server reads them only behind the proxy credential. Lower case, as Node exposes request headers.
 *
 * To add one: add it here, then `auth_request_set` + `proxy_set_header` in nginx/templates (the contract test
 * fails until nginx forwards it), the verifier's answer (nginx/verifier/src/http/server.ts) and the server's
 * reader (server/src/transport/http/request-guards.ts).
 */
export const IDENTITY_HEADERS = {
  subject: 'x-auth-subject',
  username: 'x-auth-username',
  clientId: 'x-auth-client-id',
  /** Space separated. */
  scopes: 'x-auth-scopes',
  /** The jti, or `sha256:` + 16 hex of the token: the join key of the verifier's and the server's audit. */
  tokenId: 'x-auth-token-id',
  /** Realm roles, space separated (policy, #13). */
  roles: 'x-auth-roles',
  /** What kind of caller the token names (policy, #13; server/src/identity/identity.ts isPrincipalType). */
  principalType: 'x-auth-principal-type',
} as const;

/** Headers the tiers set for each other; never taken from a client (nginx overwrites them). */
export const EDGE_HEADERS = {
  /** The shared secret behind which the MCP server trusts IDENTITY_HEADERS. */
  proxyAuth: 'x-mcp-proxy-auth',
  /** `ro` or `rw` (ROUTE_IDS), set by the nginx location on the /verify subrequest. */
  route: 'x-mcp-route',
  /** nginx's $request_id (32 hex): joins the edge, verifier and server records. */
  requestId: 'x-request-id',
  originalMethod: 'x-original-method',
  originalUri: 'x-original-uri',
} as const;

/**
 * The generated secrets (scripts/secrets.sh writes one 0600 file per name under .stack/secrets; compose
 * mounts each as a file secret into `certs`, which installs per-consumer copies).
 */
export const SECRET_NAMES = [
  'proxy_secret',
  'db_admin_password',
  'db_reader_password',
  'db_writer_password',
  'kc_admin_password',
  'service_agent_secret',
  'exchanger_secret',
  /** The registration reaper's client secret (client mcp-dcr-reaper, scripts/dcr/admin.ts). */
  'dcr_reaper_secret',
  'analyst_password',
  'operator_password',
  'mongo_keyfile',
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/**
 * The uid each container runs as (the images' own users; scripts/compose/credentials.sh chowns to them). Read by
 * the tests that hold compose.yaml and credentials.sh to it, not by running code.
 * @internal
 */
export const UIDS = { node: 1000, keycloak: 1000, mongodb: 999, nginx: 101 } as const;

/** The sample database the init script fills and the MCP users may touch (db/config.ts default). */
export const DATABASE_NAME = 'shop';

/**
 * Keycloak's JVM heap, native and compose alike. 640 MiB leaves room for metaspace and direct buffers
 * under compose's 1 GiB `mem_limit` (a JVM at its container limit is OOM-killed, not slowed).
 */
export const KEYCLOAK_HEAP = '-Xms128m -Xmx640m';

/** The pins of versions.env that code reads (the file holds more: engine and offline-image pins). */
export interface Versions {
  KEYCLOAK_VERSION: string;
  FERRETDB_VERSION: string;
  MONGODB_IMAGE: string;
  NODE_IMAGE: string;
  NGINX_IMAGE: string;
  KEYCLOAK_IMAGE: string;
  OFFICIAL_MCP_SERVER_VERSION: string;
  [name: string]: string;
}

const VERSIONS_FILE = new URL('../versions.env', import.meta.url);
let versions: Versions | undefined;

/**
 * versions.env, parsed once: the one place pinned versions live. Read on first call, not at import, because
 * the server and verifier images hold this module but not versions.env.
 */
export function pinnedVersions(): Versions {
  if (versions) return versions;
  const out: Record<string, string> = {};
  for (const line of readFileSync(VERSIONS_FILE, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  for (const k of ['KEYCLOAK_VERSION', 'FERRETDB_VERSION', 'MONGODB_IMAGE', 'NODE_IMAGE', 'NGINX_IMAGE', 'KEYCLOAK_IMAGE', 'OFFICIAL_MCP_SERVER_VERSION']) {
    if (!out[k]) throw new Error(`versions.env: ${k} is missing`);
  }
  versions = out as Versions;
  return versions;
}

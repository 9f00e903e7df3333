/**
 * The files that cannot import contract/contract.ts — compose.yaml, keycloak/realm-mcp.json, nginx/templates,
 * the shell scripts and docs/architecture.md — agree with it. A port, header, secret or uid changed in one
 * place and not the others fails here, before any stack starts.
 */
import { describe, expect, it } from 'vitest';
import {
  AGENT_REDIRECT_URI,
  CLIENTS,
  DATABASE_NAME,
  EDGE_HEADERS,
  IDENTITY_HEADERS,
  KEYCLOAK_HEAP,
  METRICS_PORTS,
  PORTS,
  REALM,
  ROLES,
  ROUTES,
  SCOPES,
  SECRET_NAMES,
  UIDS,
  USERS,
  pinnedVersions,
} from '../../contract/contract.ts';
import { planFor } from '../../scripts/stack/plan.ts';
import { envOf, loadCompose, rawText, type Service } from '../compose/compose-file.ts';

const compose = loadCompose();
const service = (name: string): Service => compose.services[name] ?? {};
const env = (name: string) => envOf(service(name));
const template = (name: string) => rawText(`nginx/templates/${name}`);
/** `X-Auth-Token-Id` for `x-auth-token-id`: how nginx config and the docs spell a header. */
const display = (h: string) => h.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()).replace(/^X-Mcp-/, 'X-MCP-');
/** nginx's `$upstream_http_x_auth_token_id` variable for a header of the verifier's answer. */
const upstreamVar = (h: string) => `$upstream_http_${h.replace(/-/g, '_')}`;

describe('the contract ⇄ compose.yaml', () => {
  it('publishes only the edge port and wires each tier to the contract port', () => {
    expect(service('proxy').ports).toEqual([`\${EDGE_BIND:-127.0.0.1}:${PORTS.edgeHttps}:${PORTS.edgeHttps}`]);
    expect(env('proxy')).toMatchObject({
      EDGE_LISTEN: `${PORTS.edgeHttps}`,
      EDGE_HTTP_LISTEN: `${PORTS.edgeHttp}`,
      EDGE_STATUS_LISTEN: `127.0.0.1:${METRICS_PORTS.nginxStatus}`,
      VERIFIER_UPSTREAM: `127.0.0.1:${PORTS.verifier}`,
      MCP_RO_UPSTREAM: `127.0.0.1:${PORTS.mcpReadOnly}`,
      MCP_RW_UPSTREAM: `127.0.0.1:${PORTS.mcpReadWrite}`,
      KEYCLOAK_UPSTREAM: `keycloak:${PORTS.keycloakHttp}`,
    });
    expect(env('verifier').VERIFIER_PORT).toBe(`${PORTS.verifier}`);
    expect(env('mcp-ro').MDB_MCP_HTTP_PORT).toBe(`${PORTS.mcpReadOnly}`);
    expect(env('mcp-rw').MDB_MCP_HTTP_PORT).toBe(`${PORTS.mcpReadWrite}`);
    expect(env('keycloak')).toMatchObject({ KC_HTTP_PORT: `${PORTS.keycloakHttp}`, KC_HTTP_MANAGEMENT_PORT: `${PORTS.keycloakManagement}` });
    const mongod = service('mongo1').command as string[];
    expect(mongod[mongod.indexOf('--port') + 1]).toBe(`${PORTS.database}`);
  });

  it("uses the native plan's ports inside the edge namespace, so both runtimes have one topology", () => {
    const p = planFor('netns');
    expect([p.edge.port, p.verifierPort, p.mcpRoPort, p.mcpRwPort, p.keycloak.port, p.keycloak.mgmtPort, p.db.port]).toEqual([
      PORTS.edgeHttps,
      PORTS.verifier,
      PORTS.mcpReadOnly,
      PORTS.mcpReadWrite,
      PORTS.keycloakHttp,
      PORTS.keycloakManagement,
      PORTS.database,
    ]);
  });

  it("mounts exactly the contract's secrets, all into `certs` and nowhere else", () => {
    expect(Object.keys(compose.secrets ?? {}).sort()).toEqual([...SECRET_NAMES].sort());
    expect([...(service('certs').secrets ?? [])].sort()).toEqual([...SECRET_NAMES].sort());
    const others = Object.entries(compose.services)
      .filter(([n, s]) => n !== 'certs' && s.secrets?.length)
      .map(([n]) => n);
    expect(others).toEqual([]);
  });

  it("runs each tier as the contract's uid", () => {
    const users = Object.fromEntries(Object.entries(compose.services).map(([n, s]) => [n, s.user]));
    expect(users).toMatchObject({
      'mongo-init': `${UIDS.node}:${UIDS.node}`,
      mongo1: `${UIDS.mongodb}:${UIDS.mongodb}`,
      keycloak: `${UIDS.keycloak}:${UIDS.keycloak}`,
      proxy: `${UIDS.nginx}:${UIDS.nginx}`,
      verifier: `${UIDS.node}:${UIDS.node}`,
      'mcp-ro': `${UIDS.node}:${UIDS.node}`,
      'mcp-rw': `${UIDS.node}:${UIDS.node}`,
      'dcr-reaper': `${UIDS.node}:${UIDS.node}`,
    });
  });

  it('gives Keycloak the same heap as the native runner, and pulls the versions.env images', () => {
    expect(env('keycloak').JAVA_OPTS_KC_HEAP).toBe(KEYCLOAK_HEAP);
    expect(service('mongo1').image).toBe(pinnedVersions().MONGODB_IMAGE);
    expect(service('proxy').image).toBe(pinnedVersions().NGINX_IMAGE);
    expect(pinnedVersions().KEYCLOAK_IMAGE).toBe(`quay.io/keycloak/keycloak:${pinnedVersions().KEYCLOAK_VERSION}`);
  });
});

describe('the contract ⇄ the shell scripts', () => {
  const words = (text: string) => new Set(text.split(/[\s\\;]+/));

  it('generates every contract secret (scripts/secrets.sh) and checks each before installing it (credentials.sh)', () => {
    const secrets = words(rawText('scripts/secrets.sh'));
    const credentials = words(rawText('scripts/compose/credentials.sh'));
    expect(SECRET_NAMES.filter((s) => !secrets.has(s) && !rawText('scripts/secrets.sh').includes(`$OUT/${s}"`))).toEqual([]);
    expect(SECRET_NAMES.filter((s) => !credentials.has(s))).toEqual([]);
  });

  it("installs the reaper's client secret for Keycloak and the reaper only (credentials.sh), and no admin password for the reaper", () => {
    const text = rawText('scripts/compose/credentials.sh');
    const installs = [
      ...text.matchAll(/^.*\bdcr_reaper_secret\b.*\bput\b.*$|^for s in [^;]*\bdcr_reaper_secret\b[^;]*; do\n\s*secret "\$s" \| put \S+ "\$OUT\/(\S+)"/gm),
    ].map((m) => m[1] ?? /"\$OUT\/([\w-]+)"/.exec(m[0])?.[1]);
    expect(installs.sort()).toEqual(['dcr-reaper', 'keycloak']);
    expect(text).not.toMatch(/kc_admin_password[^\n]*"\$OUT\/dcr-reaper"/);
  });

  it("chowns credentials to the contract's uids (scripts/compose/credentials.sh)", () => {
    expect(rawText('scripts/compose/credentials.sh')).toContain(
      `MONGODB_UID=${UIDS.mongodb} NGINX_UID=${UIDS.nginx} NODE_UID=${UIDS.node} KEYCLOAK_UID=${UIDS.keycloak}`,
    );
  });
});

describe('the contract ⇄ keycloak/realm-mcp.json', () => {
  const realm = JSON.parse(rawText('keycloak/realm-mcp.json')) as {
    realm: string;
    clientScopes: { name: string }[];
    roles: { realm: { name: string }[] };
    clients: { clientId: string; redirectUris?: string[] }[];
    users: { username: string }[];
  };

  it('defines the realm, scopes, roles, clients and users the tiers name', () => {
    expect(realm.realm).toBe(REALM);
    expect(realm.clientScopes.map((s) => s.name)).toEqual(expect.arrayContaining(Object.values(SCOPES)));
    expect(realm.roles.realm.map((r) => r.name)).toEqual(expect.arrayContaining(Object.values(ROLES)));
    expect(realm.clients.map((c) => c.clientId)).toEqual(expect.arrayContaining(Object.values(CLIENTS)));
    expect(realm.users.map((u) => u.username)).toEqual(expect.arrayContaining(Object.values(USERS)));
  });

  it("names the MCP resources (token audiences) at the contract's routes", () => {
    const ids = realm.clients.map((c) => c.clientId);
    expect(ids).toEqual(expect.arrayContaining([`\${PUBLIC_BASE_URL}${ROUTES.readOnly}`, `\${PUBLIC_BASE_URL}${ROUTES.readWrite}`]));
  });

  it("gives the registration reaper a confidential client for client credentials only, holding realm-management's manage-clients and view-users", () => {
    const reaper = realm.clients.find((c) => c.clientId === CLIENTS.reaper) as Record<string, unknown> | undefined;
    expect(reaper).toMatchObject({
      publicClient: false,
      secret: `\${DCR_REAPER_SECRET}`,
      standardFlowEnabled: false,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: true,
      fullScopeAllowed: false,
    });
    const account = realm.users.find((u) => (u as { serviceAccountClientId?: string }).serviceAccountClientId === CLIENTS.reaper) as
      | { realmRoles?: string[]; clientRoles?: Record<string, string[]> }
      | undefined;
    expect({ realm: account?.realmRoles ?? [], clients: account?.clientRoles }).toEqual({
      realm: [],
      clients: { 'realm-management': ['manage-clients', 'view-users'] },
    });
  });

  it("keeps every client's name and description within Keycloak's 255-character columns (a longer one fails the import)", () => {
    const long = (realm.clients as { clientId: string; name?: string; description?: string }[]).filter(
      (c) => (c.name ?? '').length > 255 || (c.description ?? '').length > 255,
    );
    expect(long.map((c) => c.clientId)).toEqual([]);
  });

  it('lets the agent use the loopback redirect URI the tests log in with', () => {
    const agent = realm.clients.find((c) => c.clientId === CLIENTS.agent);
    const u = new URL(AGENT_REDIRECT_URI);
    expect(agent?.redirectUris).toContain(`${u.protocol}//${u.hostname}/*`);
  });
});

describe('the contract ⇄ nginx/templates', () => {
  const auth = template('snippets/auth.conf.template');
  const proxy = template('snippets/mcp-proxy.conf.template');
  const edge = template('edge.conf.template');

  it.each(Object.values(IDENTITY_HEADERS))("copies %s from the verifier's answer and sets it on the MCP upstream", (h) => {
    const copied = new RegExp(`^auth_request_set (\\$\\w+) \\${upstreamVar(h)};$`, 'm').exec(auth);
    expect(copied, `auth.conf: auth_request_set for ${h}`).not.toBeNull();
    expect(proxy).toMatch(new RegExp(`^proxy_set_header ${display(h)} \\${copied?.[1]};$`, 'm'));
  });

  it('sets no X-Auth-* header on the MCP upstream that the contract does not name', () => {
    const set = [...proxy.matchAll(/^proxy_set_header (X-Auth-[\w-]+) /gm)].map((m) => m[1]?.toLowerCase());
    expect(set.sort()).toEqual(Object.values(IDENTITY_HEADERS).sort());
  });

  it("serves the two MCP routes at the contract paths, proxied to the servers' MCP path, behind the verifier", () => {
    expect(edge).toContain(`location = ${ROUTES.readOnly} {`);
    expect(edge).toContain(`location = ${ROUTES.readWrite} {`);
    expect(edge).toContain(`proxy_pass http://mcp_ro${ROUTES.mcpUpstream};`);
    expect(edge).toContain(`proxy_pass http://mcp_rw${ROUTES.mcpUpstream};`);
    expect(edge).toContain(`proxy_pass http://verifier${ROUTES.verify};`);
    expect(edge).toContain(`location = ${ROUTES.resourceMetadata}${ROUTES.readWrite} {`);
  });

  it('sends the verifier the edge headers it reads, and the MCP servers the request id', () => {
    for (const h of [EDGE_HEADERS.route, EDGE_HEADERS.requestId, EDGE_HEADERS.originalMethod, EDGE_HEADERS.originalUri]) {
      expect(edge).toMatch(new RegExp(`^\\s*proxy_set_header ${display(h)} `, 'mi'));
    }
    expect(proxy).toMatch(new RegExp(`^proxy_set_header ${display(EDGE_HEADERS.requestId)} \\$request_id;$`, 'm'));
    // The proxy credential's header is written by credentials.sh / the native runner into the included file.
    expect(rawText('scripts/compose/credentials.sh').toLowerCase()).toContain(`proxy_set_header ${EDGE_HEADERS.proxyAuth} `);
  });
});

describe('the contract ⇄ docs/architecture.md', () => {
  const doc = rawText('docs/architecture.md');

  it("lists every identity header where it documents the verifier's answer and the MCP upstream", () => {
    const verifierSection = doc.slice(doc.indexOf('## nginx ⇄ verifier'), doc.indexOf('## nginx ⇄ MCP server'));
    const upstreamSection = doc.slice(doc.indexOf('## nginx ⇄ MCP server'), doc.indexOf('## Audit records'));
    const missing = (text: string) =>
      Object.values(IDENTITY_HEADERS)
        .map(display)
        .filter((h) => !text.includes(`\`${h}\``));
    expect(missing(verifierSection)).toEqual([]);
    expect(missing(upstreamSection)).toEqual([]);
  });

  it("names the contract's database, ports and secrets", () => {
    expect(doc).toContain(`"name": "${DATABASE_NAME}"`);
    expect(doc).toContain(`127.0.0.1:${PORTS.mcpReadOnly}/mcp`);
    expect(doc).toContain(`verifier 127.0.0.1:${PORTS.verifier}`);
    const generated = doc.slice(doc.indexOf('`.stack/secrets/`'));
    expect(SECRET_NAMES.filter((s) => !generated.includes(`\`${s}\``))).toEqual([]);
  });
});

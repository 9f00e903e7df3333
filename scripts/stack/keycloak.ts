/**
 * Starts Keycloak (the authorization server) for the native runner and the tests: `kc.sh start --optimized
 * --import-realm` on the pre-built dist, with the realm `mcp` imported from keycloak/realm-mcp.json.
 *
 * Every start gets a fresh home under `dataDir` (kc.sh copied, the dist's lib/conf/themes/providers
 * linked, a new `data/`), so the H2 database is new, the realm is always re-imported with the current
 * secrets, and two Keycloaks never share a database file. Secrets reach Keycloak only through its
 * environment (bootstrap admin, realm `${...}` placeholders), never through argv.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { privateDir, tightenTree } from './state-at-rest.ts';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpOk, startService, waitFor } from './process.ts';
import type { Service } from './process.ts';
import { KEYCLOAK_HEAP, REALM as CONTRACT_REALM, pinnedVersions } from '../../contract/contract.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const KEYCLOAK_VERSION = pinnedVersions().KEYCLOAK_VERSION;
export const REALM = CONTRACT_REALM;
export const REALM_FILE = join(ROOT, 'keycloak/realm-mcp.json');

export interface KeycloakSecrets {
  adminPassword: string;
  serviceAgentSecret: string;
  exchangerSecret: string;
  /** The registration reaper's client secret (client mcp-dcr-reaper, scripts/dcr). */
  dcrReaperSecret: string;
  analystPassword: string;
  operatorPassword: string;
}

export interface KeycloakOptions {
  /** The pre-built dist; defaults to `${MCP_STACK_CACHE:-~/.cache/mcp-security-stack}/keycloak-<version>`. */
  home?: string;
  /** Wiped and re-created on every start: Keycloak's database and import directory live here. */
  dataDir: string;
  /** Interface for HTTP and management; inside a namespace, that namespace's address. */
  host?: string;
  port: number;
  mgmtPort: number;
  /** The edge origin, e.g. `https://10.88.1.2:8443`: the issuer and the resource URIs derive from it. */
  publicBaseUrl: string;
  secrets: KeycloakSecrets;
  /**
   * Addresses (or CIDRs) whose X-Forwarded-* headers Keycloak believes, e.g. the edge's. Unset: any peer
   * that can reach the HTTP port, which the topology limits to the edge (netns link / internal network).
   */
  trustedProxies?: string[];
  netns?: string | null;
  logFile: string;
  timeoutMs?: number;
}

export interface Keycloak {
  /** Keycloak's own HTTP listener, for the runner and the verifier (not the public URL). */
  internalUrl: string;
  mgmtUrl: string;
  /** Always the public edge URL + /realms/mcp: tokens carry it as `iss`, whatever address fetched them. */
  issuer: string;
  jwksUrl: string;
  service: Service;
  /** Milliseconds from spawn to `/health/ready`. */
  startupMs: number;
  stop(): Promise<void>;
}

export function defaultKeycloakHome(): string {
  const cache = process.env.MCP_STACK_CACHE ?? join(homedir(), '.cache/mcp-security-stack');
  return join(cache, `keycloak-${KEYCLOAK_VERSION}`);
}

/** Keycloak 26 runs on Java 17+; prefer the newest JDK the machine has. */
export function findJavaHome(): string | undefined {
  const candidates = [process.env.JAVA_HOME, '/usr/lib/jvm/temurin-25-jdk-amd64', '/usr/lib/jvm/java-21-openjdk-amd64', '/usr/lib/jvm/java-17-openjdk-amd64'];
  return candidates.find((j): j is string => !!j && existsSync(join(j, 'bin/java')));
}

/**
 * A class-data-sharing archive in the cache, written by the first run's JVM at exit (JDK 19+): measured
 * about 20 % off every later cold start. The JVM ignores and rewrites a stale or broken archive.
 */
function cdsOptions(dist: string, javaHome: string): Record<string, string> {
  let major = 0;
  try {
    major = Number(/JAVA_VERSION="(\d+)/.exec(readFileSync(join(javaHome, 'release'), 'utf8'))?.[1] ?? 0);
  } catch {
    /* no release file: run without the archive */
  }
  if (major < 19) return {};
  mkdirSync(join(dist, '.cds'), { recursive: true });
  return { JAVA_OPTS_APPEND: `-XX:SharedArchiveFile=${join(dist, '.cds', `${basename(javaHome)}.jsa`)} -XX:+AutoCreateSharedArchive` };
}

/** JVM temporary files (Quarkus, Vert.x) in the private home rather than a shared /tmp. */
function javaOptions(home: string, cds: Record<string, string>): Record<string, string> {
  return { JAVA_OPTS_APPEND: [`-Djava.io.tmpdir=${join(home, 'tmp')}`, cds.JAVA_OPTS_APPEND].filter(Boolean).join(' ') };
}

// The realm file takes secrets by textual `${NAME}` substitution into JSON, so a value must not be able to
// end its JSON string or start another placeholder. The generated secrets are base64url/hex anyway.
const SAFE_SECRET = /^[A-Za-z0-9._~+/=-]{16,512}$/;

/** The environment that fills the realm's `${...}` placeholders (see keycloak/realm-mcp.json). */
export function realmEnv(publicBaseUrl: string, s: KeycloakSecrets): Record<string, string> {
  const base = new URL(publicBaseUrl);
  if (base.pathname !== '/' || base.search || base.hash) throw new Error('keycloak: publicBaseUrl must be an origin (no path)');
  for (const [name, value] of Object.entries(s)) {
    if (!SAFE_SECRET.test(value)) throw new Error(`keycloak: secrets.${name} must be 16-512 characters of [A-Za-z0-9._~+/=-]`);
  }
  return {
    PUBLIC_BASE_URL: base.origin,
    SERVICE_AGENT_SECRET: s.serviceAgentSecret,
    EXCHANGER_SECRET: s.exchangerSecret,
    DCR_REAPER_SECRET: s.dcrReaperSecret,
    ANALYST_PASSWORD: s.analystPassword,
    OPERATOR_PASSWORD: s.operatorPassword,
  };
}

/**
 * A private home that shares the dist's read-only parts and owns its `data/` (H2 database, import) and its
 * temporary directory. Owner-only (0700): the H2 database holds the realm's private signing key and the
 * clients' secrets, and the import holds the realm with the users' passwords filled in at start.
 */
function prepareHome(dist: string, dataDir: string): string {
  const home = join(privateDir(dataDir), 'home');
  rmSync(home, { recursive: true, force: true });
  privateDir(join(home, 'bin'));
  privateDir(join(home, 'tmp'));
  // kc.sh derives kc.home.dir from its own (resolved) path, so it is copied, not linked.
  copyFileSync(join(dist, 'bin/kc.sh'), join(home, 'bin/kc.sh'));
  // copyFile keeps the source's mode whatever the umask: set ours.
  chmodSync(join(home, 'bin/kc.sh'), 0o700);
  for (const part of ['lib', 'conf', 'themes', 'providers']) symlinkSync(join(dist, part), join(home, part));
  privateDir(join(home, 'data/import'));
  copyFileSync(REALM_FILE, join(home, 'data/import/realm-mcp.json'));
  chmodSync(join(home, 'data/import/realm-mcp.json'), 0o600);
  return home;
}

export async function startKeycloak(o: KeycloakOptions): Promise<Keycloak> {
  const dist = o.home ?? defaultKeycloakHome();
  // `start --optimized` runs what `kc.sh build` baked in: refuse a build older than keycloak/keycloak.conf.
  const want = createHash('sha256')
    .update(readFileSync(join(ROOT, 'keycloak/keycloak.conf')))
    .digest('hex')
    .slice(0, 16);
  const built = existsSync(join(dist, '.built')) ? readFileSync(join(dist, '.built'), 'utf8').trim() : '';
  if (built !== want) throw new Error(`keycloak: ${dist} is not built for keycloak/keycloak.conf; run: bash scripts/provision.sh`);
  const javaHome = findJavaHome();
  if (!javaHome) throw new Error('keycloak: no Java 17+ found (set JAVA_HOME)');
  const host = o.host ?? '127.0.0.1';
  const issuer = `${new URL(o.publicBaseUrl).origin}/realms/${REALM}`;
  const home = prepareHome(dist, o.dataDir);
  const env: Record<string, string> = {
    JAVA_HOME: javaHome,
    // Keep the JVM small: it shares two cores and a few GB with the rest of the stack.
    JAVA_OPTS_KC_HEAP: KEYCLOAK_HEAP,
    ...javaOptions(home, cdsOptions(dist, javaHome)),
    KC_HOSTNAME: new URL(o.publicBaseUrl).origin,
    KC_HTTP_HOST: host,
    KC_HTTP_PORT: String(o.port),
    KC_HTTP_MANAGEMENT_PORT: String(o.mgmtPort),
    ...(o.trustedProxies?.length ? { KC_PROXY_TRUSTED_ADDRESSES: o.trustedProxies.join(',') } : {}),
    KC_BOOTSTRAP_ADMIN_USERNAME: 'admin',
    KC_BOOTSTRAP_ADMIN_PASSWORD: o.secrets.adminPassword,
    ...realmEnv(o.publicBaseUrl, o.secrets),
  };
  const started = Date.now();
  const service = startService({
    name: 'keycloak',
    command: join(home, 'bin/kc.sh'),
    args: ['start', '--optimized', '--import-realm'],
    env,
    cwd: home,
    netns: o.netns ?? null,
    logFile: o.logFile,
  });
  const internalUrl = `http://${hostForUrl(host)}:${o.port}`;
  const mgmtUrl = `http://${hostForUrl(host)}:${o.mgmtPort}`;
  try {
    await waitFor('keycloak /health/ready', () => httpOk(`${mgmtUrl}/health/ready`, { netns: o.netns }), {
      timeoutMs: o.timeoutMs ?? 180_000,
      intervalMs: 500,
      service,
    });
  } catch (e) {
    await service.stop();
    throw e;
  }
  // Vert.x creates its class-path cache (tmp/vertx-cache) group- and world-writable. It holds no secret and
  // sits in the 0700 home, but the rule for .stack/ has no exceptions: owner-only, once it exists.
  tightenTree(home);
  return {
    internalUrl,
    mgmtUrl,
    issuer,
    jwksUrl: `${internalUrl}/realms/${REALM}/protocol/openid-connect/certs`,
    service,
    startupMs: Date.now() - started,
    stop: () => service.stop(),
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

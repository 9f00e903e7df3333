/**
 * compose.offline.yaml (issue #11): the registry-free override. It swaps images and the data tier, and only
 * that: every image is one of ours, none masquerades under an upstream name, the hardening of compose.yaml
 * is untouched, and the file says what its data tier is. Also: compose.yaml runs on Engine 20.10.
 */
import { describe, expect, it } from 'vitest';
import { composePlan } from '../harness/compose-runtime.ts';
import { loadCompose, loadVersions, rawText, RESET, type Service } from './compose-file.ts';

const versions = loadVersions();
const base = loadCompose('compose.yaml');
const offline = loadCompose('compose.offline.yaml');
const OURS = /^mcp-security-stack\/[a-z0-9-]+:[A-Za-z0-9._-]+$/;
/** Keys that weaken a container when an override changes them. */
const HARDENING = [
  'user',
  'read_only',
  'cap_drop',
  'cap_add',
  'security_opt',
  'privileged',
  'mem_limit',
  'pids_limit',
  'tmpfs',
  'networks',
  'network_mode',
  'ports',
  'volumes',
  'init',
  'restart',
  'secrets',
  'devices',
  'ipc',
  'pid',
  'userns_mode',
];

describe('compose.offline.yaml', () => {
  const services = Object.entries(offline.services) as [string, Service & { pull_policy?: string }][];

  it("names only the project's own images, never an upstream name (a local stand-in tagged mongo:8.0.16 would lie)", () => {
    const upstream = new Set([versions.MONGODB_IMAGE, versions.NODE_IMAGE, versions.NGINX_IMAGE, versions.KEYCLOAK_IMAGE]);
    for (const [name, s] of services) {
      if (!s.image) continue;
      expect(s.image, name).toMatch(OURS);
      expect(upstream.has(s.image), name).toBe(false);
    }
    const bases = services.flatMap(([, s]) => Object.values((s.build as { args?: Record<string, string> } | undefined)?.args ?? {}));
    expect(bases.length).toBeGreaterThan(0);
    for (const b of bases) expect(b).toMatch(OURS);
  });

  it('gives every service that starts an image of ours, so nothing is pulled from a registry', () => {
    for (const name of composePlan(['compose.yaml', 'compose.offline.yaml']).services.concat(['certs', 'mongo-init'])) {
      expect(offline.services[name]?.image, name).toMatch(OURS);
    }
  });

  it('pins its images to versions.env (node, keycloak, nginx from Debian, ferretdb)', () => {
    const images = services.map(([, s]) => s.image);
    expect(images).toContain('mcp-security-stack/server:offline');
    expect(images).toContain(`mcp-security-stack/keycloak:${versions.KEYCLOAK_VERSION}`);
    expect(images).toContain(`mcp-security-stack/nginx:${versions.NGINX_DEBIAN_VERSION}-${versions.DEBIAN_SUITE}`);
    expect(images).toContain(`mcp-security-stack/ferretdb:${versions.FERRETDB_VERSION}`);
    const args = services.flatMap(([, s]) => Object.values((s.build as { args?: Record<string, string> } | undefined)?.args ?? {}));
    expect(new Set(args)).toEqual(
      new Set([`mcp-security-stack/node:${versions.NODE_VERSION}`, `mcp-security-stack/keycloak-base:${versions.KEYCLOAK_VERSION}`]),
    );
  });

  it("changes no hardening key of any service: read-only, capabilities, user, limits, networks all stay compose.yaml's", () => {
    const changed = services.flatMap(([name, s]) => HARDENING.filter((k) => k in s).map((k) => `${name}: ${k}`));
    expect(changed).toEqual([]);
  });

  it('says in its header that the data tier is FerretDB with TLS + SCRAM, not a replica set', () => {
    const header = rawText('compose.offline.yaml')
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join(' ');
    expect(header).toMatch(/FerretDB/);
    expect(header).toMatch(/TLS/);
    expect(header).toMatch(/SCRAM/);
    expect(header).toMatch(/NOT a MongoDB replica set/);
  });

  it('runs one FerretDB server with TLS only, a required client certificate and SCRAM, and parks mongo2/mongo3', () => {
    const cmd = ((offline.services.mongo1?.command ?? []) as string[]).map(String);
    expect(cmd).toEqual(
      expect.arrayContaining([
        '--listen-addr=',
        '--listen-tls=:27017',
        '--listen-tls-ca-file=/run/credentials/ca.crt',
        '--test-enable-new-auth',
        '--telemetry=disable',
        '--debug-addr=-',
      ]),
    );
    expect(JSON.stringify(offline.services.mongo1?.entrypoint)).not.toMatch(/[A-Za-z0-9_-]{32,}/);
    expect(composePlan(['compose.yaml', 'compose.offline.yaml'])).toEqual({
      services: ['mongo1', 'keycloak', 'dcr-reaper', 'proxy', 'verifier', 'mcp-ro', 'mcp-rw'],
      database: 'ferretdb',
    });
    expect((offline.services['mongo-init']?.environment as Record<string, unknown> | undefined)?.DB_INIT_REPLICA_SET).toBe(RESET);
  });
});

describe('compose.yaml on the engines users have', () => {
  /** Keys the Docker Engine API accepts only from v25 (API 1.44) on; Engine 20.10 refuses the whole file. */
  const ENGINE_25_KEYS = ['start_interval'];
  const keysOf = (v: unknown, path = ''): string[] =>
    v && typeof v === 'object' ? Object.entries(v).flatMap(([k, x]) => [`${path}${k}`, ...keysOf(x, `${path}${k}.`)]) : [];

  it.each(['compose.yaml', 'compose.official.yaml', 'compose.offline.yaml'])('%s uses no key that needs Engine 25+', (file) => {
    const keys = keysOf(loadCompose(file));
    expect(keys.filter((k) => ENGINE_25_KEYS.some((bad) => k.endsWith(`.${bad}`)))).toEqual([]);
  });

  it('starts the mongod replica set, as before, with compose.yaml alone', () => {
    expect(composePlan(['compose.yaml'])).toEqual({
      services: ['mongo1', 'mongo2', 'mongo3', 'keycloak', 'dcr-reaper', 'proxy', 'verifier', 'mcp-ro', 'mcp-rw'],
      database: 'mongod',
    });
    expect(base.services.mongo1?.image).toBe(versions.MONGODB_IMAGE);
  });
});

/**
 * compose.yaml's security policy, checked statically (no Docker engine needed). Every failure names the
 * service and the rule. Exemptions are listed here, each with its reason.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SECRET_NAMES } from '../../contract/contract.ts';
import { envOf, loadCompose, loadVersions, parseDockerfile, rawText, ROOT, type Service } from './compose-file.ts';

const compose = loadCompose();
const services = Object.entries(compose.services);
const versions = loadVersions();

/** Run once and exit; everything else is long-running. */
const ONE_SHOTS = new Set(['certs', 'mongo-init']);
/** Exemptions, with why. */
const ROOT_ALLOWED: Record<string, string> = { certs: 'chowns each credential to its consumer (compose ignores uid/mode of file secrets)' };
const CAP_ADD_ALLOWED: Record<string, string[]> = { certs: ['CHOWN', 'DAC_READ_SEARCH'] };
const STARTED_ALLOWED: Record<string, string[]> = {
  // a member is healthy (primary/secondary) only after mongo-init has initiated the replica set
  'mongo-init': ['mongo1', 'mongo2', 'mongo3'],
};
const SECRET_FILES: readonly string[] = SECRET_NAMES;

function check(rule: (name: string, s: Service) => string | string[] | undefined): string[] {
  return services.flatMap(([name, s]) => {
    const r = rule(name, s);
    return (Array.isArray(r) ? r : r ? [r] : []).map((m) => `${name}: ${m}`);
  });
}
const buildOf = (s: Service) => (typeof s.build === 'string' ? { context: s.build } : s.build);
function dockerfileOf(s: Service): string | undefined {
  const b = buildOf(s);
  return b ? resolve(ROOT, b.context ?? '.', b.dockerfile ?? 'Dockerfile') : undefined;
}
function hasHealthcheck(s: Service): boolean {
  if (s.healthcheck?.test && !s.healthcheck.disable) return true;
  const df = dockerfileOf(s);
  return !!df && existsSync(df) && parseDockerfile(df.slice(ROOT.length + 1)).lines.some((l) => /^HEALTHCHECK\s+(?!NONE)/.test(l));
}
const networksOf = (s: Service) => (Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {}));
const dependsOf = (s: Service) => (Array.isArray(s.depends_on) ? Object.fromEntries(s.depends_on.map((d) => [d, {}])) : (s.depends_on ?? {}));
const argv = (s: Service) => [s.command, s.entrypoint].flat().filter((x): x is string => typeof x === 'string');

describe('compose.yaml: structure', () => {
  it('has no `version` key and no `container_name` (names are compose-project scoped)', () => {
    expect(compose.version, 'top level: version').toBeUndefined();
    expect(check((_, s) => (s.container_name ? 'sets container_name' : undefined))).toEqual([]);
  });

  it('defines the services of the architecture, mapped one-to-one onto the tiers', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      ['certs', 'dcr-reaper', 'keycloak', 'mcp-ro', 'mcp-rw', 'mongo-init', 'mongo1', 'mongo2', 'mongo3', 'proxy', 'verifier'].sort(),
    );
  });
});

describe('compose.yaml: exposure', () => {
  it('publishes exactly one port, the edge 8443 on proxy, bound to ${EDGE_BIND:-127.0.0.1}', () => {
    expect(
      check((name, s) => {
        const ports = s.ports ?? [];
        if (name !== 'proxy') return ports.length ? 'publishes a port (only proxy may)' : undefined;
        return JSON.stringify(ports) === JSON.stringify(['${EDGE_BIND:-127.0.0.1}:8443:8443'])
          ? undefined
          : `ports must be exactly "\${EDGE_BIND:-127.0.0.1}:8443:8443", got ${JSON.stringify(ports)}`;
      }),
    ).toEqual([]);
    expect(check((_, s) => (s.expose ? 'uses expose (unneeded on user-defined networks)' : undefined))).toEqual([]);
  });

  it('keeps the auth and data networks internal and puts only proxy on the public one', () => {
    expect(compose.networks?.auth?.internal, 'network auth: internal').toBe(true);
    expect(compose.networks?.data?.internal, 'network data: internal').toBe(true);
    expect(check((name, s) => (name !== 'proxy' && networksOf(s).includes('public') ? 'is on the public network' : undefined))).toEqual([]);
  });

  it('places each tier on the networks it needs and no other', () => {
    const want: Record<string, string[]> = {
      proxy: ['auth', 'data', 'public'],
      keycloak: ['auth'],
      // The registration reaper talks to Keycloak's own listener only.
      'dcr-reaper': ['auth'],
      mongo1: ['data'],
      mongo2: ['data'],
      mongo3: ['data'],
    };
    expect(
      check((name, s) => {
        if (s.network_mode) return undefined;
        const got = networksOf(s).sort().join(',');
        return got === (want[name] ?? []).join(',') ? undefined : `networks ${got || '(default)'} ≠ ${(want[name] ?? []).join(',')}`;
      }),
    ).toEqual([]);
  });

  it('runs the verifier and both MCP servers in the edge netns (service:proxy), bound to 127.0.0.1', () => {
    expect(
      check((name, s) => {
        if (!['verifier', 'mcp-ro', 'mcp-rw'].includes(name)) return undefined;
        const env = envOf(s);
        const host = env.MDB_MCP_HTTP_HOST ?? env.VERIFIER_HOST;
        return [
          s.network_mode === 'service:proxy' ? undefined : `network_mode must be service:proxy, got ${s.network_mode}`,
          host === '127.0.0.1' ? undefined : `must bind 127.0.0.1, got ${host}`,
        ].filter((m): m is string => !!m);
      }),
    ).toEqual([]);
  });
});

describe('compose.yaml: hardening', () => {
  it('drops every capability and forbids privilege escalation in every service', () => {
    expect(
      check((_, s) =>
        [
          JSON.stringify(s.cap_drop) === '["ALL"]' ? undefined : 'cap_drop must be [ALL]',
          (s.security_opt as string[] | undefined)?.includes('no-new-privileges:true') ? undefined : 'security_opt must include no-new-privileges:true',
        ].filter((m): m is string => !!m),
      ),
    ).toEqual([]);
  });

  it('adds back capabilities only where listed (certs: CHOWN, DAC_READ_SEARCH)', () => {
    expect(
      check((name, s) => {
        const add = ((s.cap_add as string[] | undefined) ?? []).slice().sort();
        const allowed = CAP_ADD_ALLOWED[name] ?? [];
        const extra = add.filter((c) => !allowed.includes(c));
        return extra.length ? `cap_add ${extra.join(',')} is not in the allowed list` : undefined;
      }),
    ).toEqual([]);
  });

  it('runs every service as a non-root numeric user (exemption: certs)', () => {
    expect(
      check((name, s) => {
        const user = String(s.user ?? '');
        if (ROOT_ALLOWED[name]) return undefined;
        if (!/^\d+(:\d+)?$/.test(user)) return `user must be numeric uid[:gid], got "${user}"`;
        return user.split(':')[0] === '0' ? 'runs as root' : undefined;
      }),
    ).toEqual([]);
  });

  it('mounts every root filesystem read-only, with tmpfs for scratch', () => {
    expect(
      check((_, s) =>
        [s.read_only === true ? undefined : 'read_only must be true', s.tmpfs ? undefined : 'needs a tmpfs for scratch (/tmp)'].filter((m): m is string => !!m),
      ),
    ).toEqual([]);
  });

  it('limits memory and process count of every service', () => {
    expect(
      check((_, s) =>
        [s.mem_limit ? undefined : 'mem_limit missing', typeof s.pids_limit === 'number' && s.pids_limit > 0 ? undefined : 'pids_limit missing'].filter(
          (m): m is string => !!m,
        ),
      ),
    ).toEqual([]);
  });

  it('restarts long-running services unless stopped, and never restarts a one-shot', () => {
    expect(
      check((name, s) => {
        const want = ONE_SHOTS.has(name) ? 'no' : 'unless-stopped';
        return s.restart === want ? undefined : `restart must be "${want}", got ${JSON.stringify(s.restart)}`;
      }),
    ).toEqual([]);
  });
});

describe("compose.yaml: Keycloak's state is its own", () => {
  it("mounts Keycloak's data and /tmp as tmpfs owned by uid 1000 with mode 0700, and starts it with umask 077", () => {
    const kc = compose.services.keycloak ?? {};
    const tmpfs = (kc.tmpfs as string[]).map(String);
    for (const path of ['/opt/keycloak/data', '/tmp']) {
      const opts =
        tmpfs
          .find((t) => t.startsWith(`${path}:`))
          ?.split(':')[1]
          ?.split(',') ?? [];
      expect(opts, path).toEqual(expect.arrayContaining(['uid=1000', 'gid=1000', 'mode=0700']));
    }
    expect([kc.entrypoint].flat().join('\n')).toMatch(/^\s*umask 077\b/m);
  });
});

describe('compose.yaml: start order and health', () => {
  it('gates every dependency on health, or on successful completion of a one-shot (exemption: mongo-init → members)', () => {
    expect(
      check((name, s) =>
        Object.entries(dependsOf(s))
          .map(([dep, d]) => {
            const cond = (d as { condition?: string }).condition;
            const want = ONE_SHOTS.has(dep) ? 'service_completed_successfully' : 'service_healthy';
            if (cond === 'service_started' && STARTED_ALLOWED[name]?.includes(dep)) return undefined;
            return cond === want ? undefined : `depends_on ${dep} must use condition ${want}, got ${cond ?? '(none)'}`;
          })
          .filter((m): m is string => !!m),
      ),
    ).toEqual([]);
  });

  it('gives every long-running service a healthcheck (in compose.yaml or its Dockerfile)', () => {
    expect(check((name, s) => (ONE_SHOTS.has(name) || hasHealthcheck(s) ? undefined : 'no healthcheck'))).toEqual([]);
  });

  it('checks mongod readiness with hello() over TLS (writable primary or secondary), not ping', () => {
    expect(
      check((name, s) => {
        if (!name.startsWith('mongo') || ONE_SHOTS.has(name)) return undefined;
        const t = JSON.stringify(s.healthcheck?.test ?? '');
        return /isWritablePrimary/.test(t) && /secondary/.test(t) && /--tls\b/.test(t) && !/ping/.test(t)
          ? undefined
          : 'healthcheck must be hello().isWritablePrimary || secondary over TLS';
      }),
    ).toEqual([]);
  });
});

describe('compose.yaml: the database', () => {
  const FLAGS = [
    ['--replSet', 'rs0'],
    ['--tlsMode', 'requireTLS'],
    ['--tlsCertificateKeyFile'],
    ['--tlsCAFile'],
    ['--tlsDisabledProtocols', 'TLS1_0,TLS1_1'],
    ['--keyFile'],
    ['--setParameter', 'authenticationMechanisms=SCRAM-SHA-256'],
    ['--noscripting'],
    ['--bind_ip_all'],
  ];

  it('starts every member with TLS required, keyFile auth, SCRAM-SHA-256 only and no server-side JavaScript', () => {
    expect(
      check((name, s) => {
        if (!/^mongo\d$/.test(name)) return undefined;
        const cmd = (s.command as string[] | undefined) ?? [];
        return FLAGS.filter(([flag, value]) => {
          const i = cmd.indexOf(flag as string);
          return i < 0 || (value !== undefined && cmd[i + 1] !== value);
        }).map(([flag, value]) => `mongod flag ${flag}${value ? ' ' + value : ''} missing`);
      }),
    ).toEqual([]);
  });
});

describe('compose.yaml: secrets', () => {
  it('declares every secret as a file under .stack/secrets/ (generated by scripts/secrets.sh, gitignored)', () => {
    const declared = compose.secrets ?? {};
    expect(Object.keys(declared).sort()).toEqual(SECRET_FILES.slice().sort());
    for (const [name, def] of Object.entries(declared)) expect(def.file, `secret ${name}`).toBe(`./.stack/secrets/${name}`);
    expect(rawText('.gitignore')).toMatch(/^\.stack\/?$/m);
  });

  it('mounts the host secrets only into certs, which installs per-consumer 0400 copies', () => {
    expect(check((name, s) => (name !== 'certs' && s.secrets?.length ? 'mounts compose secrets directly' : undefined))).toEqual([]);
  });

  it('never puts a credential in an environment value, a command or an entrypoint; only file paths', () => {
    const credentialName = /(PASSWORD|SECRET|TOKEN|CONNECTION_STRING|_URI_WITH_CREDENTIALS|KEY)$/;
    const credentialValue = /:\/\/[^/\s:@]+:[^@\s]+@|[A-Za-z0-9_-]{32,}/;
    expect(
      check((_, s) =>
        [
          ...Object.entries(envOf(s)).flatMap(([k, v]) => [
            // a credential-named variable may only hold a path to a file (TLS_KEY=/run/credentials/edge.key)
            credentialName.test(k) && !v.startsWith('/') ? `env ${k} holds a credential by name; use ${k}_FILE` : undefined,
            credentialValue.test(v) ? `env ${k} looks like a credential or a URI with credentials` : undefined,
          ]),
          ...argv(s).map((a) => (credentialValue.test(a.replace(/\$\$\([^)]*\)/g, '')) ? `command/entrypoint carries something credential-like` : undefined)),
        ].filter((m): m is string => !!m),
      ),
    ).toEqual([]);
  });

  it("reads the MCP servers' connection strings and proxy secret from files; mcp-ro is read-only", () => {
    expect(
      check((name, s) => {
        if (!name.startsWith('mcp-')) return undefined;
        const env = envOf(s);
        return [
          env.MDB_MCP_CONNECTION_STRING_FILE ? undefined : 'MDB_MCP_CONNECTION_STRING_FILE missing',
          env.MDB_MCP_PROXY_SECRET_FILE ? undefined : 'MDB_MCP_PROXY_SECRET_FILE missing',
          env.MDB_MCP_READ_ONLY === (name === 'mcp-ro' ? 'true' : 'false') ? undefined : `MDB_MCP_READ_ONLY must be ${name === 'mcp-ro'}`,
        ].filter((m): m is string => !!m);
      }),
    ).toEqual([]);
  });
});

describe('compose.yaml: images', () => {
  it('pins every image by an explicit tag, never latest', () => {
    expect(
      check((_, s) => {
        const image = s.image ?? '';
        if (!image) return 'no image name';
        const tag = /:([^/:@]+)(@sha256:[a-f0-9]{64})?$/.exec(image)?.[1];
        return !tag || tag === 'latest' ? `image ${image} is not pinned` : undefined;
      }),
    ).toEqual([]);
  });

  it('uses exactly the image tags of versions.env for pulled images', () => {
    const allowed = new Set([versions.MONGODB_IMAGE, versions.NGINX_IMAGE]);
    expect(check((_, s) => (s.build || allowed.has(s.image) ? undefined : `pulled image ${s.image} is not a versions.env value`))).toEqual([]);
    expect(compose.services.mongo1?.image).toBe(versions.MONGODB_IMAGE);
    expect(compose.services.proxy?.image).toBe(versions.NGINX_IMAGE);
  });

  it('pins the official MCP server override to OFFICIAL_MCP_SERVER_VERSION', () => {
    expect(loadCompose('compose.official.yaml').services['mcp-ro']?.image).toBe(`mongodb/mongodb-mcp-server:${versions.OFFICIAL_MCP_SERVER_VERSION}`);
  });
});

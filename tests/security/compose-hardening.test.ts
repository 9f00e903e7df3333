/**
 * The compose deployment's hardening as the ENGINE reports it (docker inspect and exec through the
 * testcontainers client), not as compose.yaml declares it: tests/compose/policy.test.ts reads the file;
 * this proves the running containers got it. Runs under STACK_RUNTIME=compose (npm run test:compose).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ContainerInspectInfo } from 'dockerode';
import { readComposeRunner } from '../../scripts/compose/runner-state.ts';
import { composeFiles, composePlan } from '../harness/compose-runtime.ts';
import { composeProject } from '../harness/compose-engine.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');
const NATIVE = 'native runtime: the tiers are processes, not containers (their isolation is proven by topology, proxy-bypass and state-at-rest)';
// The files of this run: STACK_COMPOSE_FILES (test:compose), else those `npm start -- --runtime compose` used.
const plan = composePlan(process.env.STACK_COMPOSE_FILES ? composeFiles() : (readComposeRunner()?.files ?? composeFiles()));
const ONE_SHOTS = ['certs', 'mongo-init'];
/** The one exemption of compose.yaml (tests/compose/policy.test.ts): certs chowns each credential to its consumer. */
const ROOT_ALLOWED: Record<string, string[]> = { certs: ['CAP_CHOWN', 'CAP_DAC_READ_SEARCH'] };
/** The uid that owns each service's /run/credentials (scripts/compose/credentials.sh). */
const CREDENTIAL_OWNER: Record<string, number> = {
  mongo1: 999,
  mongo2: 999,
  mongo3: 999,
  keycloak: 1000,
  proxy: 101,
  'mcp-ro': 1000,
  'mcp-rw': 1000,
  'dcr-reaper': 1000,
};

type Client = Awaited<ReturnType<typeof import('testcontainers')['getContainerRuntimeClient']>>;
let client: Client;
const inspected = new Map<string, ContainerInspectInfo>();
const containers = new Map<string, ReturnType<Client['container']['getById']>>();

beforeAll(async () => {
  if (m.runtime !== 'compose') return;
  const engine = await composeProject();
  client = engine.client;
  const project = engine.project;
  for (const service of [...plan.services, ...ONE_SHOTS]) {
    const c = client.container.getById(`${project}-${service}-1`);
    containers.set(service, c);
    inspected.set(service, await client.container.inspect(c));
  }
});

/** Runs `cmd` in a running service's container as its own user; stdout, or throws with stderr. */
async function exec(service: string, cmd: string[]): Promise<{ code: number; out: string }> {
  const c = containers.get(service);
  if (!c) throw new Error(`no container for ${service}`);
  const r = await client.container.exec(c, cmd);
  return { code: r.exitCode, out: `${r.stdout}${r.stderr}` };
}

describe('every container, as the engine runs it', () => {
  it('runs as a non-root user, with a read-only root fs, CapDrop ALL and no-new-privileges (exemption: certs)', (ctx) => {
    if (m.runtime !== 'compose') return ctx.skip(NATIVE);
    const bad: string[] = [];
    for (const [service, i] of inspected) {
      const user = i.Config.User ?? '';
      const added: string[] = i.HostConfig.CapAdd ?? [];
      if (!ROOT_ALLOWED[service] && !/^[1-9]\d*(:\d+)?$/.test(user)) bad.push(`${service}: user "${user}"`);
      if (added.some((c) => !(ROOT_ALLOWED[service] ?? []).includes(c))) bad.push(`${service}: CapAdd ${added.join(',')}`);
      if (i.HostConfig.ReadonlyRootfs !== true) bad.push(`${service}: root fs writable`);
      if (!(i.HostConfig.CapDrop ?? []).includes('ALL')) bad.push(`${service}: CapDrop ${JSON.stringify(i.HostConfig.CapDrop)}`);
      if (!(i.HostConfig.SecurityOpt ?? []).some((o: string) => /^no-new-privileges(:true)?$/.test(o))) bad.push(`${service}: no no-new-privileges`);
      if (i.HostConfig.Privileged) bad.push(`${service}: privileged`);
    }
    recordProof(ctx, {
      attack: `docker inspect ${inspected.size} containers: user, ReadonlyRootfs, CapDrop, SecurityOpt`,
      expected: 'non-root, read-only, ALL dropped, no-new-privileges',
      observed: bad.join('; ') || `all ${inspected.size} hold`,
    });
    expect(bad).toEqual([]);
  });

  it('limits memory and the number of processes of every container', (ctx) => {
    if (m.runtime !== 'compose') return ctx.skip(NATIVE);
    const bad = [...inspected]
      .filter(([, i]) => !(i.HostConfig.Memory && i.HostConfig.Memory > 0) || !(i.HostConfig.PidsLimit && i.HostConfig.PidsLimit > 0))
      .map(([s, i]) => `${s}: Memory ${i.HostConfig.Memory} PidsLimit ${i.HostConfig.PidsLimit}`);
    recordProof(ctx, {
      attack: 'docker inspect: HostConfig.Memory, PidsLimit',
      expected: 'both > 0 everywhere',
      observed: bad.join('; ') || `all ${inspected.size} limited`,
    });
    expect(bad).toEqual([]);
  });

  it("carries no secret in any container's environment, command, entrypoint or labels", (ctx) => {
    if (m.runtime !== 'compose') return ctx.skip(NATIVE);
    const secrets = readdirSync(m.secretsDir)
      .map((f) => readFileSync(join(m.secretsDir, f), 'utf8').trim())
      .filter((s) => s.length >= 16);
    expect(secrets.length).toBeGreaterThan(5); // not vacuous
    const leaks: string[] = [];
    for (const [service, i] of inspected) {
      const text = JSON.stringify([i.Config.Env, i.Config.Cmd, i.Config.Entrypoint, i.Config.Labels, i.Args, i.Path]);
      if (secrets.some((s) => text.includes(s))) leaks.push(`${service}: a generated secret`);
      if (/:\/\/[^/\s:@"]+:[^@\s"]+@/.test(text)) leaks.push(`${service}: a URI with credentials`);
    }
    recordProof(ctx, {
      attack: `search ${secrets.length} generated secrets in Env/Cmd/Entrypoint/Labels of ${inspected.size} containers`,
      expected: 'none found',
      observed: leaks.join('; ') || 'none found',
    });
    expect(leaks).toEqual([]);
  });

  it('publishes only the edge, 8443 on 127.0.0.1; no other container has a host port', (ctx) => {
    if (m.runtime !== 'compose') return ctx.skip(NATIVE);
    const published = [...inspected].flatMap(([s, i]) =>
      Object.entries(i.HostConfig.PortBindings ?? {}).flatMap(([port, b]) =>
        ((b ?? []) as { HostIp?: string; HostPort?: string }[]).map((x) => `${s} ${x.HostIp || '0.0.0.0'}:${x.HostPort}->${port}`),
      ),
    );
    recordProof(ctx, { attack: 'docker inspect: every PortBinding', expected: 'proxy 127.0.0.1:8443->8443/tcp only', observed: published.join(', ') });
    expect(published).toEqual(['proxy 127.0.0.1:8443->8443/tcp']);
  });
});

describe('credentials and state inside the containers', () => {
  it('gives each service its credentials directory 0500 and every file in it 0400, all owned by its one uid', async (ctx) => {
    if (m.runtime !== 'compose') return ctx.skip(NATIVE);
    const bad: string[] = [];
    for (const service of plan.services) {
      const uid = CREDENTIAL_OWNER[service];
      if (uid === undefined) continue; // the verifier has no credentials volume
      const r = await exec(service, ['sh', '-c', 'stat -c "%u %a %n" /run/credentials /run/credentials/*']);
      const lines = r.out.trim().split('\n');
      if (r.code !== 0 || lines.length < 2) bad.push(`${service}: ${r.out.trim()}`);
      for (const l of lines) {
        const [owner, mode, path] = l.split(' ');
        const want = path === '/run/credentials' ? '500' : '400';
        if (owner !== String(uid) || mode !== want) bad.push(`${service}: ${l} (want ${uid} ${want})`);
      }
    }
    recordProof(ctx, {
      attack: 'stat /run/credentials/* inside every service',
      expected: 'dir 0500, files 0400, owner = the service uid',
      observed: bad.join('; ') || 'all hold',
    });
    expect(bad).toEqual([]);
  });

  it('runs Keycloak with umask 077 and keeps its data (H2, the realm keys) unreadable to any other uid', async (ctx) => {
    if (m.runtime !== 'compose') return ctx.skip(NATIVE);
    // PID 1 is the engine's init; the JVM is the process whose executable is java (not this probe's shell).
    const umask = await exec('keycloak', [
      'bash',
      '-c',
      'for p in /proc/[0-9]*; do [[ "$(readlink "$p/exe")" == */java ]] && grep ^Umask "$p/status"; done; true',
    ]);
    const files = await exec('keycloak', [
      'bash',
      '-c',
      'stat -c "%a %n" /opt/keycloak/data; find /opt/keycloak/data -path /opt/keycloak/data/import -prune -o -type f -print | wc -l; find /opt/keycloak/data -path /opt/keycloak/data/import -prune -o -perm /077 -print',
    ]);
    const [dirLine, count, ...open] = files.out.trim().split('\n');
    recordProof(ctx, {
      attack: "read the JVM's umask and look for group/other permissions under /opt/keycloak/data",
      expected: 'Umask 0077; data 700; no file with group/other bits',
      observed: `${umask.out.trim()}; ${dirLine}; ${count} files, ${open.length} open`,
    });
    expect(umask.out.trim()).toMatch(/^Umask:\s+0077$/m);
    expect(dirLine).toBe('700 /opt/keycloak/data');
    expect(Number(count)).toBeGreaterThan(0); // the H2 files exist: the check is not vacuous
    expect(open).toEqual([]);
  });
});

describe('the internal networks', () => {
  // No packet is sent anywhere: this workplace allows traffic only to the stack's own addresses, so the proof
  // reads the routing state instead of knocking on an outside address.
  it('give Keycloak and the database no route out of the stack', async (ctx) => {
    if (m.runtime !== 'compose') return ctx.skip(NATIVE);
    const seen: string[] = [];
    // The host's forwarding switch: with it off, a packet that reaches the bridge goes no further.
    const hostForwarding = (await readFile('/proc/sys/net/ipv4/ip_forward', 'utf8').catch(() => '?')).trim();
    for (const service of ['keycloak', 'mongo1']) {
      // /proc/net/route: a default route has destination 00000000.
      const r = await exec(service, ['cat', '/proc/net/route']);
      const defaults = r.out
        .split('\n')
        .slice(1)
        .filter((l) => /^\S+\s+00000000\s/.test(l)).length;
      // Engine ≥ 28 gives an `internal` network no gateway at all. Engine 20.10 keeps a gateway on the bridge
      // and relies on iptables DROP rules, which --iptables=false leaves out: there only the host's disabled
      // forwarding stops the packet, and the proof says so.
      seen.push(`${service}: ${defaults === 0 ? 'no default route' : `default route to the bridge, host forwarding ${hostForwarding === '0' ? 'off' : 'ON'}`}`);
      expect(r.code, service).toBe(0);
      expect(defaults === 0 || hostForwarding === '0', `${service}: a default route and host forwarding on`).toBe(true);
    }
    recordProof(ctx, {
      attack: 'look for a way out of the internal networks from keycloak and mongo1',
      expected: 'no default route (or none the host forwards)',
      observed: seen.join('; '),
    });
  });
});

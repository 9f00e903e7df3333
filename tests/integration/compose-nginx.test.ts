/**
 * The proxy service's nginx configuration: the templates rendered with exactly the variables compose sets,
 * the way the nginx image does (envsubst restricted by NGINX_ENVSUBST_FILTER), then `nginx -t` with the
 * compose service names resolvable — inside a network namespace whose /etc/hosts maps them to 127.0.0.1
 * (`ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts). Needs root, ip netns and nginx.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDGE_VARIABLES, mainConfig, renderTemplates, writeProxySecretInclude, type EdgeVars } from '../../scripts/stack/nginx.ts';
import { envOf, loadCompose, ROOT } from '../compose/compose-file.ts';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const proxyEnv = envOf(loadCompose().services.proxy ?? {});
const CREDENTIALS = '/run/credentials/'; // where compose mounts proxy-credentials

describe('proxy: nginx -t on the rendered configuration', () => {
  const isRoot = process.getuid?.() === 0;
  const hasNetns = isRoot && spawnSync('ip', ['netns', 'list']).status === 0;
  const canRun = hasNetns && existsSync(NGINX);
  const ns = `mcps-ct-${process.pid}`;
  const prefix = mkdtempSync(join(tmpdir(), 'compose-nginx-'));
  const nginxT = (netns: string | null) =>
    spawnSync(
      netns ? 'ip' : NGINX,
      [...(netns ? ['netns', 'exec', netns, NGINX] : []), '-t', '-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', 'stderr'],
      // Why a file for stdout: the access log is /dev/stdout, which cannot be opened on node's socketpair stdio.
      { encoding: 'utf8', stdio: ['ignore', openSync(join(prefix, 'stdout.log'), 'a'), 'pipe'] },
    );

  beforeAll(async () => {
    if (!canRun) return;
    // The credentials the `certs` one-shot would install, at a local stand-in for /run/credentials.
    const creds = join(prefix, 'credentials');
    execFileSync('bash', [join(ROOT, 'scripts/certs.sh'), creds], { stdio: 'ignore' });
    await writeProxySecretInclude('x'.repeat(32), join(creds, 'proxy-secret.conf'));
    const vars = Object.fromEntries(EDGE_VARIABLES.map((v) => [v, (proxyEnv[v] ?? '').replace(CREDENTIALS, `${creds}/`)])) as EdgeVars;
    await renderTemplates(vars, join(prefix, 'conf.d'));
    for (const d of ['logs', 'temp']) mkdirSync(join(prefix, d), { recursive: true });
    writeFileSync(join(prefix, 'nginx.conf'), mainConfig(prefix));
    // compose's DNS, as /etc/hosts: the only upstream given by name is Keycloak's.
    mkdirSync(`/etc/netns/${ns}`, { recursive: true });
    writeFileSync(`/etc/netns/${ns}/hosts`, '127.0.0.1 localhost\n127.0.0.1 keycloak verifier proxy mongo1 mongo2 mongo3\n');
    execFileSync('ip', ['netns', 'add', ns]);
  });

  afterAll(() => {
    if (canRun) {
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(`/etc/netns/${ns}`, { recursive: true, force: true });
    }
    rmSync(prefix, { recursive: true, force: true });
  });

  it("accepts the configuration compose renders, with compose's service names resolvable", (ctx) => {
    if (!canRun) return ctx.skip(`needs root, ip netns and nginx at ${NGINX}`);
    const r = nginxT(ns);
    expect(r.stderr).toMatch(/syntax is ok/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/test is successful/);
  });

  it('fails when the upstream names do not resolve, so the passing check above really resolved them', (ctx) => {
    if (!canRun) return ctx.skip(`needs root, ip netns and nginx at ${NGINX}`);
    if (spawnSync('getent', ['hosts', 'keycloak']).status === 0) return ctx.skip('this host resolves "keycloak" itself');
    const r = nginxT(null);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/host not found in upstream "keycloak:8080"/);
  });
});

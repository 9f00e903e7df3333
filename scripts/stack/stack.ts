/**
 * The native stack, start to finish: topology, certificates and secrets, then the tiers in dependency
 * order (Keycloak — the slow one — alongside the database), each waited on by its health check, then the
 * manifest. Used by `npm start` and by the test harness's global setup. Any failure stops what was started
 * and throws with the failing tier's log tail; stop() leaves no process, namespace or manifest behind.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import {
  MANIFEST_PATH,
  ROOT,
  RUNNER_STATE_PATH,
  STACK_DIR,
  buildManifest,
  readJson,
  removeFile,
  writeManifest,
  writePrivateJson,
  type RunnerState,
  type StackManifest,
} from './manifest.ts';
import { netnsCapable, setupNetns, teardownNetns } from './netns.ts';
import { planFor } from './plan.ts';
import { assertProvisioned, claimRunner, freshLogs } from './preflight.ts';
import { TIER_UMASK, run, runningServices, waitFor, type Service } from './process.ts';
import { privateDir, tightenTree } from './state-at-rest.ts';
import { CERTS, LOGS, SECRETS, startAuthTier, startDataTier, startEdgeTier, type TierContext } from './tiers.ts';

export interface StartStackOptions {
  /** No progress lines on stderr. */
  quiet?: boolean;
}

export interface RunningStack {
  manifest: StackManifest;
  /** The current process of each tier (a restart replaces its entry). */
  services: Service[];
  /** Milliseconds from the call to each tier being healthy, and `total`. */
  timings: Record<string, number>;
  /**
   * Starts one tier again with the options of its first start, once what is left of its process group is
   * gone; records the new pid in the runner state and the manifest (rewritten atomically, so tests find it).
   */
  restart(tier: string): Promise<Service>;
  /** True from the moment stop() is called: a tier exiting then is being stopped, not crashing. */
  readonly stopping: boolean;
  stop(): Promise<void>;
}

/** HTTP status of an unauthenticated GET, from the host, trusting only our CA. */
function statusOf(url: string, caFile: string): Promise<number> {
  return new Promise((resolve) => {
    execFile('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', '--cacert', caFile, url], (_e, out) => resolve(Number(out) || 0));
  });
}

export async function startStack(opts: StartStackOptions = {}): Promise<RunningStack> {
  const log = (l: string) => {
    if (!opts.quiet) process.stderr.write(`[stack] ${l}\n`);
  };
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  // The runner writes rendered configs, logs, the runner state and the manifest: all of it owner-only.
  process.umask(TIER_UMASK);
  assertProvisioned();
  const cap = await netnsCapable();
  const plan = planFor(cap.ok ? 'netns' : 'loopback');
  if (!cap.ok) log(`network namespaces unavailable (${cap.reason}): every tier on 127.0.0.1 — weaker isolation`);
  await claimRunner(plan.isolation);
  // Before any tier starts: .stack/ and all it holds (also what an older version left) is owner-only.
  privateDir(STACK_DIR);
  const tightened = tightenTree(STACK_DIR);
  if (tightened > 0) log(`state at rest: removed group/other access from ${tightened} entries under ${STACK_DIR}`);

  const services: Service[] = [];
  const restarters = new Map<string, () => Promise<{ service: Service }>>();
  let manifest: StackManifest | undefined;
  let stopped: Promise<void> | undefined;
  const recordPids = () => writePrivateJson(RUNNER_STATE_PATH, { ...readJson<RunnerState>(RUNNER_STATE_PATH), pids: services.map((s) => s.pid) });
  // The edge goes first (no new requests), then every other tier at once: quick enough for a test
  // runner's teardown budget (vitest waits 10 s).
  const stop = () =>
    (stopped ??= (async () => {
      const [edge, rest] = [services.filter((s) => s.name === 'nginx'), services.filter((s) => s.name !== 'nginx')];
      for (const group of [edge, rest]) await Promise.all(group.map((s) => s.stop('SIGTERM', 5_000).catch(() => undefined)));
      // A tier the supervisor is restarting is not listed yet: it is stopped too, not left behind.
      await Promise.all(runningServices().map((s) => s.stop('SIGTERM', 5_000).catch(() => undefined)));
      if (plan.isolation === 'netns') await teardownNetns();
      for (const f of [MANIFEST_PATH, join(SECRETS, 'mcp_ro_uri'), join(SECRETS, 'mcp_rw_uri')]) removeFile(f);
      if (readJson<RunnerState>(RUNNER_STATE_PATH)?.supervisorPid === process.pid) removeFile(RUNNER_STATE_PATH);
    })());
  const ctx: TierContext = {
    plan,
    edgeUrl: `https://${plan.edge.publicHost}:${plan.edge.port}`,
    log,
    started: (tier, x, again) => {
      services.push(x.service);
      restarters.set(tier, again);
      // Recorded at once, so `npm stop` can clean up even a stack whose runner died while starting.
      recordPids();
      timings[tier] = Date.now() - t0;
      log(`${tier} ready (${(timings[tier] / 1000).toFixed(1)} s)`);
      return x;
    },
  };
  const restart = async (tier: string): Promise<Service> => {
    const again = restarters.get(tier);
    if (!again || stopped) throw new Error(stopped ? 'the stack is stopping' : `no tier named ${tier}`);
    const i = services.findIndex((s) => s.name === tier);
    // SIGKILL to the old group: a leftover child (kc.sh's java) would still hold the tier's ports.
    if (i >= 0) await services[i]!.stop('SIGKILL', 0);
    const { service } = await again();
    if (stopped) {
      await service.stop('SIGTERM', 5_000);
      throw new Error('the stack is stopping');
    }
    if (i >= 0) services[i] = service;
    else services.push(service);
    recordPids();
    if (manifest) {
      manifest.pids = { ...manifest.pids, [tier]: service.pid };
      writeManifest(manifest);
    }
    return service;
  };
  try {
    if (plan.isolation === 'netns') await setupNetns(); // tears down a crashed run's namespaces first
    freshLogs(LOGS);
    await Promise.all([run('bash', [join(ROOT, 'scripts/certs.sh'), CERTS]), run('bash', [join(ROOT, 'scripts/secrets.sh'), SECRETS])]);
    const caFile = join(CERTS, 'ca.crt');
    // allSettled, not all: a failing branch must not leave the other starting unobserved (and unstopped).
    const [auth, data] = await Promise.allSettled([startAuthTier(ctx), startDataTier(ctx)]);
    if (auth.status === 'rejected') throw auth.reason;
    if (data.status === 'rejected') throw data.reason;
    const edge = await startEdgeTier(ctx);
    // All-healthy = an anonymous request to the resource gets the OAuth challenge, end to end.
    await waitFor('edge: 401 on /mcp', async () => (await statusOf(`${ctx.edgeUrl}/mcp`, caFile)) === 401, { service: edge.service, timeoutMs: 15_000 });
    timings.total = Date.now() - t0;
    manifest = buildManifest({
      plan,
      edgeUrl: ctx.edgeUrl,
      issuer: auth.value.kc.issuer,
      caFile,
      db: data.value.db,
      logsDir: LOGS,
      secretsDir: SECRETS,
      nginxPrefix: join(STACK_DIR, 'nginx'),
      pids: Object.fromEntries(services.map((s) => [s.name, s.pid])),
    });
    writeManifest(manifest);
    return {
      manifest,
      services,
      timings,
      restart,
      stop,
      get stopping() {
        return stopped !== undefined;
      },
    };
  } catch (e) {
    log('start failed; stopping what was started');
    await stop();
    throw e;
  }
}

/**
 * `npm start -- --runtime compose [--offline] [--detach]`: the compose deployment as the stack, with the
 * same manifest contract as the native runner, so suites, `npm run bench` and tools attach to either.
 * A supervisor process brings the files up (tests/harness/compose-runtime.ts: health waits, manifest, the
 * followed logs that carry the audit), then stays until SIGTERM/SIGINT (`npm stop`) and brings them down.
 * --offline adds compose.offline.yaml (locally built images; FerretDB as the data tier, not a replica set).
 * No engine reachable: scripts/docker/provision-engine.sh provisions and starts one (root), stopped again
 * by `npm stop`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT, STACK_DIR } from '../stack/manifest.ts';
import { COMPOSE_PROJECT, COMPOSE_RUNNER_PATH, writeComposeRunner } from './runner-state.ts';

type Report = { ok: true; text: string } | { ok: false; error: string };

const PRIVATE_SOCKET = join(process.env.MCP_STACK_CACHE ?? join(process.env.HOME ?? '/root', '.cache/mcp-security-stack'), 'docker/run/docker.sock');

/** The engine to use: the reachable one, else the provisioned one (started now). Prints the script's progress. */
function ensureEngine(): { dockerHost: string; startedEngine: boolean } {
  const before = `unix://${PRIVATE_SOCKET}`;
  const wasRunning = (() => {
    try {
      execFileSync('curl', ['-fsS', '--max-time', '2', '--unix-socket', PRIVATE_SOCKET, 'http://engine/_ping'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  const out = execFileSync('bash', [resolve(ROOT, 'scripts/docker/provision-engine.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dockerHost = out.trim().split('\n').at(-1) ?? '';
  return { dockerHost, startedEngine: dockerHost === before && !wasRunning };
}

async function supervise(files: string[], report: (r: Report) => void): Promise<void> {
  const { startComposeStack } = await import('../../tests/harness/compose-runtime.ts');
  const started = Date.now();
  let stack;
  try {
    stack = await startComposeStack({ files, projectName: COMPOSE_PROJECT });
  } catch (e) {
    report({ ok: false, error: (e as Error).message });
    process.exit(1);
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  report({ ok: true, text: `[stack] compose (${files.join(' + ')}) healthy in ${secs} s; edge ${stack.manifest.edgeUrl}; manifest .stack/manifest.json` });
  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[stack] ${why}: bringing compose down\n`);
    await stack.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => undefined);
  setInterval(() => undefined, 1 << 30); // the log followers are the reason this process lives
}

export async function startCompose(args: string[]): Promise<void> {
  const files = args.includes('--offline') ? ['compose.yaml', 'compose.offline.yaml'] : ['compose.yaml'];
  if (args.includes('--supervise')) {
    await supervise(files, (r) => process.send?.(r));
    return;
  }
  const { dockerHost, startedEngine } = ensureEngine();
  process.env.DOCKER_HOST = dockerHost;
  // Ryuk (testcontainers' reaper) would be pulled from Docker Hub; the supervisor and `npm stop` clean up.
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  if (files.includes('compose.offline.yaml')) {
    execFileSync('bash', [resolve(ROOT, 'scripts/provision.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('bash', [resolve(ROOT, 'scripts/docker/build-images.sh')], { stdio: 'inherit' });
  }
  mkdirSync(join(STACK_DIR, 'logs'), { recursive: true, mode: 0o700 });
  const logFile = join(STACK_DIR, 'logs', 'compose-supervisor.log');
  const detach = args.includes('--detach');
  const child = spawn(
    process.execPath,
    [resolve(ROOT, 'scripts/stack/start.ts'), '--runtime', 'compose', '--supervise', ...(detach ? [] : []), ...args.filter((a) => a === '--offline')],
    {
      detached: detach,
      stdio: detach ? ['ignore', openSync(logFile, 'a', 0o600), openSync(logFile, 'a', 0o600), 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  writeComposeRunner({ supervisorPid: child.pid ?? 0, dockerHost, startedEngine, files, startedAt: new Date().toISOString() });
  child.once('message', (r: Report) => {
    if (r.ok) process.stdout.write(`${r.text}\n`);
    else process.stderr.write(`[stack] compose start failed: ${r.error}\n`);
    if (detach || !r.ok) {
      child.disconnect();
      child.unref();
      process.exit(r.ok ? 0 : 1);
    }
  });
  child.once('exit', (code) => process.exit(code ?? 1));
  if (!detach) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => child.kill(s));
  process.stderr.write(`[stack] compose supervisor pid ${child.pid}${detach ? `, log ${logFile}` : ''} (runner state ${COMPOSE_RUNNER_PATH})\n`);
}

/**
 * `npm stop` for the compose runtime: signals the supervisor (it brings the project down with its volumes),
 * then makes sure with `docker compose down -v`, removes the manifests and stops the engine if `npm start`
 * started it. Exit 1 when a container, volume or network of the project is left.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { alive } from '../stack/leftovers.ts';
import { MANIFEST_PATH, ROOT, STACK_DIR, removeFile } from '../stack/manifest.ts';
import { waitFor } from '../stack/process.ts';
import { COMPOSE_PROJECT, COMPOSE_RUNNER_PATH, readComposeRunner } from './runner-state.ts';

export async function stopCompose(): Promise<void> {
  const state = readComposeRunner();
  if (!state) return;
  const env = { ...process.env, DOCKER_HOST: state.dockerHost };
  if (alive(state.supervisorPid)) {
    process.stderr.write(`[stop] signalling the compose supervisor (pid ${state.supervisorPid})\n`);
    process.kill(state.supervisorPid, 'SIGTERM');
    await waitFor('compose supervisor exit', async () => !alive(state.supervisorPid), { timeoutMs: 120_000, intervalMs: 500 }).catch(() => undefined);
  }
  // Idempotent: after the supervisor's own down this finds nothing.
  const files = state.files.flatMap((f) => ['-f', resolve(ROOT, f)]);
  execFileSync('docker', ['compose', '-p', COMPOSE_PROJECT, ...files, 'down', '-v', '--remove-orphans'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const left = execFileSync(
    'bash',
    [
      '-c',
      `docker ps -aq --filter label=com.docker.compose.project=${COMPOSE_PROJECT}; docker volume ls -q --filter label=com.docker.compose.project=${COMPOSE_PROJECT}; docker network ls -q --filter label=com.docker.compose.project=${COMPOSE_PROJECT}`,
    ],
    { env, encoding: 'utf8' },
  ).trim();
  for (const f of [join(STACK_DIR, 'compose/manifest.json'), MANIFEST_PATH, COMPOSE_RUNNER_PATH]) removeFile(f);
  if (state.startedEngine) execFileSync('bash', [resolve(ROOT, 'scripts/docker/stop-engine.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (left) {
    process.stderr.write(`[stop] compose left behind: ${left.split('\n').join(' ')}\n`);
    process.exit(1);
  }
  process.stderr.write('[stop] compose stack stopped: no container, volume, network or manifest left\n');
}

/**
 * The Docker engine of a compose run as the suites reach it (testcontainers' client) and the compose project of this
 * checkout: compose labels every container with the directory of its files, so `<project>-<service>-1` names them.
 */
import { resolve } from 'node:path';
import { readComposeRunner } from '../../scripts/compose/runner-state.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export type EngineClient = Awaited<ReturnType<typeof import('testcontainers')['getContainerRuntimeClient']>>;

export async function composeProject(): Promise<{ client: EngineClient; project: string }> {
  // Attached to `npm start -- --runtime compose`: its engine may be the provisioned one on a private socket.
  process.env.DOCKER_HOST ??= readComposeRunner()?.dockerHost;
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  const ours = (await client.container.list()).filter((c) => c.Labels['com.docker.compose.project.working_dir'] === ROOT);
  const project = ours[0]?.Labels['com.docker.compose.project'];
  if (!project) throw new Error(`no running compose container of ${ROOT}`);
  return { client, project };
}

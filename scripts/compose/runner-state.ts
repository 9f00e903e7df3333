/** What `npm start -- --runtime compose` records for `npm stop`: the supervisor, the engine, the files. */
import { join } from 'node:path';
import { STACK_DIR, readJson, writePrivateJson } from '../stack/manifest.ts';

/** The compose project name of `npm start` (compose.yaml's `name:`); test runs use testcontainers-<uuid>. */
export const COMPOSE_PROJECT = 'mcp-security-stack';
export const COMPOSE_RUNNER_PATH = join(STACK_DIR, 'compose', 'runner.json');

export interface ComposeRunnerState {
  supervisorPid: number;
  dockerHost: string;
  /** True when this start provisioned/started the engine: `npm stop` stops it again. */
  startedEngine: boolean;
  files: string[];
  startedAt: string;
}

export function writeComposeRunner(s: ComposeRunnerState): void {
  writePrivateJson(COMPOSE_RUNNER_PATH, s);
}

export function readComposeRunner(): ComposeRunnerState | undefined {
  return readJson<ComposeRunnerState>(COMPOSE_RUNNER_PATH);
}

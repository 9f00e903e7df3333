/**
 * What must hold before the runner touches anything: the binaries are provisioned, no other runner owns
 * the stack (the namespace names are fixed, so there is one stack per machine), and this run's tier logs
 * start empty.
 */
import { existsSync, mkdirSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ferretdbBinary } from './database.ts';
import { whichMongod } from './database-command.ts';
import { defaultKeycloakHome } from './keycloak.ts';
import { alive, killRecordedGroups } from './leftovers.ts';
import { RUNNER_STATE_PATH, STACK_DIR, readJson, removeFile, type RunnerState } from './manifest.ts';
import { NGINX_BIN } from './nginx.ts';

export function assertProvisioned(): void {
  const missing = [
    existsSync(NGINX_BIN) ? null : `nginx (${NGINX_BIN})`,
    existsSync(join(defaultKeycloakHome(), '.built')) ? null : `a pre-built Keycloak (${defaultKeycloakHome()})`,
    whichMongod() || existsSync(ferretdbBinary()) ? null : 'mongod or FerretDB',
  ].filter(Boolean);
  if (missing.length) throw new Error(`not provisioned: missing ${missing.join(', ')}; run: npm run provision`);
}

/** Claims the runner state file exclusively, after cleaning up what a dead runner left behind. */
export async function claimRunner(isolation: RunnerState['isolation']): Promise<void> {
  const state = readJson<RunnerState>(RUNNER_STATE_PATH);
  if (state && state.supervisorPid !== process.pid) {
    if (alive(state.supervisorPid)) throw new Error(`a stack is already running or starting (supervisor pid ${state.supervisorPid}); run: npm stop`);
    await killRecordedGroups(state.pids);
    removeFile(RUNNER_STATE_PATH);
  }
  const mine: RunnerState = { supervisorPid: process.pid, pids: [], isolation, startedAt: new Date().toISOString() };
  mkdirSync(STACK_DIR, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(RUNNER_STATE_PATH, JSON.stringify(mine), { flag: state?.supervisorPid === process.pid ? 'w' : 'wx', mode: 0o600 });
  } catch {
    throw new Error('another runner claimed the stack at the same moment; run: npm stop');
  }
}

/** Each run starts its tier logs empty, so a failure's log tail is this run's; audit logs accumulate. */
export function freshLogs(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const f of readdirSync(dir)) if (f.endsWith('.log') && f !== 'supervisor.log') truncateSync(join(dir, f));
}

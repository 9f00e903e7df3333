/**
 * Starts the registration reaper (main.ts) as a tier of the native stack, next to Keycloak in its namespace,
 * and waits for its first sweep: a reaper whose client cannot get a token or is refused by the admin API stops the start, it does not
 * run silently useless. TTL and interval come from the runner's environment (DCR_REAPER_TTL_S,
 * DCR_REAPER_INTERVAL_S), else main.ts's defaults (1 h, 1 min).
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from '../stack/manifest.ts';
import { startService, waitFor, type Service } from '../stack/process.ts';

export interface ReaperTierOptions {
  keycloakUrl: string;
  /** The 0600 file with the mcp-dcr-reaper client secret. */
  clientSecretFile: string;
  netns: string | null;
  logFile: string;
  timeoutMs?: number;
}

const fromRunner = (): Record<string, string> =>
  Object.fromEntries((['DCR_REAPER_TTL_S', 'DCR_REAPER_INTERVAL_S'] as const).flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])));

const sizeOf = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

export async function startReaper(o: ReaperTierOptions): Promise<{ service: Service }> {
  const from = sizeOf(o.logFile);
  const service = startService({
    name: 'dcr-reaper',
    command: process.execPath,
    args: [resolve(ROOT, 'scripts/dcr/main.ts')],
    cwd: ROOT,
    netns: o.netns,
    logFile: o.logFile,
    env: { DCR_REAPER_KEYCLOAK_URL: o.keycloakUrl, DCR_REAPER_CLIENT_SECRET_FILE: o.clientSecretFile, ...fromRunner() },
  });
  try {
    const first = await waitFor(
      'dcr-reaper: first sweep',
      async () => /"event":"(sweep|sweep_failed)"[^\n]*/.exec(readFileSync(o.logFile, 'utf8').slice(from))?.[0],
      { service, timeoutMs: o.timeoutMs ?? 30_000 },
    );
    if (first.includes('sweep_failed')) throw new Error(`dcr-reaper: first sweep failed: ${first}`);
  } catch (e) {
    await service.stop();
    throw e;
  }
  return { service };
}

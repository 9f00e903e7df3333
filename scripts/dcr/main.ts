/**
 * The registration reaper as a process: sweeps every DCR_REAPER_INTERVAL_S and deletes anonymous registrations
 * unused for DCR_REAPER_TTL_S (reaper.ts says what counts as used). Configuration from the environment, one
 * schema; a bad value stops it with one line naming the field (exit 2). Logs one JSON line per decision on stderr.
 */
import { writeFileSync } from 'node:fs';
import { ConfigSchema } from './config.ts';
import { adminApi } from './admin.ts';
import { createReaper } from './reaper.ts';

const log = (record: Record<string, unknown>) =>
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'dcr-reaper', ...record })}\n`);

const parsed = ConfigSchema.safeParse(process.env);
if (!parsed.success) {
  const issue = parsed.error.issues[0];
  process.stderr.write(`dcr-reaper: invalid configuration: ${issue?.path.join('.') ?? 'config'}: ${issue?.message ?? 'invalid'}\n`);
  process.exit(2);
}
const c = parsed.data;
const api = adminApi({
  baseUrl: c.DCR_REAPER_KEYCLOAK_URL,
  realm: c.DCR_REAPER_REALM,
  clientId: c.DCR_REAPER_CLIENT_ID,
  clientSecretFile: c.DCR_REAPER_CLIENT_SECRET_FILE,
});
const reaper = createReaper(api, { ttlMs: c.DCR_REAPER_TTL_S * 1000, log });

let timer: NodeJS.Timeout | undefined;
let stopping = false;
const loop = async () => {
  try {
    const r = await reaper.sweep();
    log({ event: 'sweep', registrations: r.registrations, expired: r.expired.length, kept: r.kept.length });
    if (c.DCR_REAPER_HEALTH_FILE) writeFileSync(c.DCR_REAPER_HEALTH_FILE, `${new Date().toISOString()}\n`, { mode: 0o600 });
  } catch (e) {
    // Our own messages (HTTP statuses, paths, the client id): no token or secret ever reaches one.
    log({ event: 'sweep_failed', reason: (e as Error).message });
  }
  if (!stopping) timer = setTimeout(loop, c.DCR_REAPER_INTERVAL_S * 1000);
};
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    stopping = true;
    clearTimeout(timer);
    log({ event: 'reaper_stopped', signal });
    process.exit(0);
  });
}
log({ event: 'reaper_started', realm: c.DCR_REAPER_REALM, ttl_s: c.DCR_REAPER_TTL_S, interval_s: c.DCR_REAPER_INTERVAL_S });
void loop();

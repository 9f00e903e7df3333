/**
 * `npm stop`: asks the supervisor to stop the stack (SIGTERM, it tears everything down), waits, then makes
 * sure: kills every recorded process group and whatever still runs in our namespaces, deletes the
 * namespaces, the manifest and the connection-string files.
 */
import { join } from 'node:path';
import { MANIFEST_PATH, RUNNER_STATE_PATH, STACK_DIR, readJson, removeFile, type RunnerState } from './manifest.ts';
import { listOurNamespaces, teardownNetns } from './netns.ts';
import { alive, killRecordedGroups } from './leftovers.ts';
import { waitFor } from './process.ts';

await (await import('../compose/stop.ts')).stopCompose(); // a compose runtime started by npm start, if any
const state = readJson<RunnerState>(RUNNER_STATE_PATH);
if (state && alive(state.supervisorPid)) {
  process.stderr.write(`[stop] signalling the supervisor (pid ${state.supervisorPid})\n`);
  process.kill(state.supervisorPid, 'SIGTERM');
  await waitFor('supervisor exit', async () => !alive(state.supervisorPid), { timeoutMs: 60_000, intervalMs: 200 }).catch((e: Error) => {
    process.stderr.write(`[stop] ${e.message}; killing it\n`);
    try {
      process.kill(state.supervisorPid, 'SIGKILL');
    } catch {
      /* gone */
    }
  });
} else {
  process.stderr.write('[stop] no running supervisor; cleaning up leftovers\n');
}
// Fallback for a supervisor that crashed or was killed: its children live on in their own groups.
const procs = await killRecordedGroups(state?.pids ?? []);
if (process.getuid?.() === 0) await teardownNetns();
for (const f of [MANIFEST_PATH, RUNNER_STATE_PATH, join(STACK_DIR, 'secrets/mcp_ro_uri'), join(STACK_DIR, 'secrets/mcp_rw_uri')]) removeFile(f);
const left = process.getuid?.() === 0 ? await listOurNamespaces() : [];
if (left.length || procs.length) {
  process.stderr.write(`[stop] left behind: namespaces [${left.join(', ')}], pids [${procs.join(', ')}]\n`);
  process.exit(1);
}
process.stderr.write('[stop] stack stopped: no process, namespace or manifest left\n');

/** mcp-audit run as a user runs it: the bin in a child process, reading only its arguments; in `netns` when the target lives there. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import type { Report } from '../../audit/src/practice.ts';
import { ROOT, type StackManifest } from '../../scripts/stack/manifest.ts';
import { execIn } from '../../scripts/stack/process.ts';

const CLI = resolve(ROOT, 'audit/src/cli.ts');

/** The CLI's exit code, its JSON report and its stderr (where --aggressive announces its probes). */
export function mcpAudit(args: string[], netns: string | null = null): Promise<{ code: number; report: Report; stderr: string }> {
  const { command, args: full } = execIn(netns, process.execPath, [CLI, ...args, '--json']);
  return new Promise((done) => {
    execFile(command, full, { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, report: JSON.parse(stdout) as Report, stderr });
    });
  });
}

/** The stack's CA and the service agent's client credentials (its secret by file, never in argv). */
export const serviceAgentArgs = (m: StackManifest): string[] => [
  '--ca',
  m.caFile,
  '--client-id',
  m.clients.service.id,
  '--client-secret-file',
  resolve(m.secretsDir, 'service_agent_secret'),
];

/**
 * The paths a request can take to the same data (GitHub issue #7), cheapest first. Each names where its
 * load generator must run: the direct and stdio paths only exist inside the edge namespace, the secure
 * path is what an outside agent uses (the host reaches the edge's public address by route).
 */
import { resolve } from 'node:path';
import type { StackManifest } from '../tests/harness/manifest.ts';
import { ROOT } from '../scripts/stack/manifest.ts';
import { OFFICIAL_ENV, officialEntry } from './official.ts';
import type { PathSpec } from './protocol.ts';

export type PathId = 'driver' | 'direct-http' | 'direct-stdio' | 'secure' | 'official-http' | 'official-stdio';

export interface BenchPath {
  id: PathId;
  label: string;
  spec: PathSpec;
  netns: string | null;
}

const OFFICIAL_ARGS = { connectionId: 'preconfigured' };

export function benchPaths(m: StackManifest, o: { officialHttpUrl: string | undefined; logsDir: string }): BenchPath[] {
  const edgeNs = m.direct.netns;
  const readerUri = resolve(m.secretsDir, 'mcp_ro_uri');
  const paths: BenchPath[] = [
    { id: 'driver', label: 'raw driver (admin user)', spec: { kind: 'driver' }, netns: null },
    { id: 'direct-http', label: 'ours, direct HTTP', spec: { kind: 'http', url: m.direct.readOnly, auth: 'proxy' }, netns: edgeNs },
    {
      id: 'direct-stdio',
      label: 'ours, stdio',
      spec: {
        kind: 'stdio',
        command: process.execPath,
        args: [resolve(ROOT, 'server/src/main.ts'), '--transport', 'stdio', '--readOnly'],
        // Audit to a file, as the HTTP tiers do, so both pay the same per-call audit cost.
        env: { MDB_MCP_CONNECTION_STRING_FILE: readerUri, MDB_MCP_AUDIT_LOG: resolve(o.logsDir, 'direct-stdio.audit.jsonl') },
        secretEnv: {},
        logFile: resolve(o.logsDir, 'direct-stdio.log'),
      },
      netns: edgeNs,
    },
    { id: 'secure', label: 'ours, secure (TLS edge + token)', spec: { kind: 'http', url: m.resources.readOnly, auth: 'bearer' }, netns: null },
  ];
  if (o.officialHttpUrl) {
    paths.push({
      id: 'official-http',
      label: 'official 3.0.4, HTTP',
      spec: { kind: 'http', url: o.officialHttpUrl, auth: 'none', extraArgs: OFFICIAL_ARGS },
      netns: edgeNs,
    });
  }
  paths.push({
    id: 'official-stdio',
    label: 'official 3.0.4, stdio',
    spec: {
      kind: 'stdio',
      command: process.execPath,
      args: [officialEntry()],
      env: { ...OFFICIAL_ENV, HOME: o.logsDir },
      secretEnv: { MDB_MCP_CONNECTION_STRING: readerUri },
      logFile: resolve(o.logsDir, 'official-stdio.log'),
      extraArgs: OFFICIAL_ARGS,
    },
    netns: edgeNs,
  });
  return paths;
}

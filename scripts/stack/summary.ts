/** What `npm start` prints once the stack is healthy: where things are, and three commands to try. */
import { relative } from 'node:path';
import type { StackManifest } from './manifest.ts';
import { MANIFEST_PATH, ROOT } from './manifest.ts';

export function summary(m: StackManifest, totalMs: number, memory: Record<string, number>): string {
  const rel = (p: string) => relative(ROOT, p) || p;
  const ca = rel(m.caFile);
  const isolation =
    m.isolation === 'netns'
      ? `netns (${m.clientNetns} stands for the outside world and reaches only the edge)`
      : 'loopback — WEAKER: every tier listens on 127.0.0.1, so any local process can reach the back tiers directly';
  const mem = Object.entries(memory)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const tokenUrl = `${m.issuer}/protocol/openid-connect/token`;
  return [
    `MCP security stack up in ${(totalMs / 1000).toFixed(1)} s`,
    `  isolation   ${isolation}`,
    `  edge        ${m.edgeUrl}   (CA: ${ca})`,
    `  read-only   ${m.resources.readOnly}`,
    `  read-write  ${m.resources.readWrite}`,
    `  issuer      ${m.issuer}`,
    `  manifest    ${MANIFEST_PATH}   (0600: holds the stack's secrets)`,
    `  logs        ${rel(m.logs.nginx ?? '').replace(/nginx\.log$/, '')}`,
    `  memory MiB  ${mem}`,
    '',
    'Try next:',
    `  # 1. anonymous → 401 with the RFC 9728 challenge`,
    `  curl -si --cacert ${ca} ${m.resources.readOnly} | grep -i -e '^HTTP' -e www-authenticate`,
    `  # 2. a client-credentials token for the read-only resource (the secret is read from its file)`,
    `  TOKEN=$(curl -s --cacert ${ca} ${tokenUrl} -d grant_type=client_credentials -d client_id=${m.clients.service.id} \\`,
    `    --data-urlencode client_secret@${rel(m.proxySecretFile).replace(/proxy_secret$/, 'service_agent_secret')} -d scope=mcp:read | jq -r .access_token)`,
    `  # 3. MCP Inspector (Streamable HTTP, URL ${m.resources.readOnly}; it discovers the login by itself)`,
    `  NODE_EXTRA_CA_CERTS=${ca} npx @modelcontextprotocol/inspector`,
    '',
    m.runtime === 'native' ? 'Stop with Ctrl-C (foreground) or: npm stop' : '',
  ].join('\n');
}

/**
 * For the fault suites: whether the stack serves end to end again, so the suites after them run against what they
 * expect. A session opened to check is ended at once: sessions count against the caller's quota.
 */
import { alive } from '../../scripts/stack/leftovers.ts';
import { waitFor } from '../../scripts/stack/process.ts';
import { rawRequest } from './http.ts';
import { readManifest, type StackManifest } from './manifest.ts';
import { serviceAgentToken } from './tokens.ts';

const PROTOCOL = '2025-06-18';
const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'stack-health', version: '1' } },
});

/** Opens an MCP session on `route` (an edge path) with `token` and ends it again: the edge's status for the open. */
export async function openAndEnd(m: StackManifest, route: string, token: string): Promise<number> {
  const headers = { ...HEADERS, authorization: `Bearer ${token}` };
  const r = await rawRequest(m, { method: 'POST', path: route, headers, body: INITIALIZE });
  const id = r.headers['mcp-session-id'];
  if (typeof id === 'string')
    await rawRequest(m, { method: 'DELETE', path: route, headers: { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': PROTOCOL } }).catch(
      () => undefined,
    );
  return r.status;
}

/**
 * Waits until every tier recorded in the manifest is alive and a fresh token opens the read-only route. A new token
 * each time: after a key rotation the verifier may need its next permitted key-set refresh first.
 */
export async function waitForHealthyStack(what: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    what,
    async () => {
      const now = await readManifest({ requireHealthy: true });
      if (!now?.pids || !Object.values(now.pids).every(alive)) return false;
      const token = (await serviceAgentToken(now)).access_token;
      return (await openAndEnd(now, new URL(now.resources.readOnly).pathname, token)) === 200;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

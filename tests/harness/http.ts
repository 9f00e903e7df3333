/**
 * HTTP from the tests' point of view: the host namespace reaching the edge over TLS with the stack's
 * private CA (never by turning verification off), and the client namespace probing what an outsider sees.
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import type { StackManifest } from './manifest.ts';
import { run } from '../../scripts/stack/process.ts';

const agents = new Map<string, Agent>();

/** A fetch that trusts exactly the stack's CA. */
export function fetchWithCa(caFile: string): typeof fetch {
  let agent = agents.get(caFile);
  if (!agent) {
    agent = new Agent({ connect: { ca: readFileSync(caFile) } });
    agents.set(caFile, agent);
  }
  const dispatcher = agent;
  return ((input: string | URL | Request, init?: RequestInit) =>
    undiciFetch(input as string, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request with exactly the path and headers given — fetch normalises paths like `/mcp/../admin`
 * and refuses some headers, which is what an attacker's raw client does not do.
 */
export function rawRequest(
  m: StackManifest,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string; tls?: { minVersion?: string; maxVersion?: string } },
): Promise<RawResponse> {
  const url = new URL(m.edgeUrl);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        method: o.method ?? 'GET',
        path: o.path,
        headers: { host: url.host, ...o.headers },
        ca: readFileSync(m.caFile),
        minVersion: o.tls?.minVersion as never,
        maxVersion: o.tls?.maxVersion as never,
        agent: false,
        // Node would check the certificate against the Host header; an attacker's forged Host must not
        // change which server we verify: always the edge's real address.
        checkServerIdentity: (_host: string, cert) => checkServerIdentity(url.hostname, cert),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
    req.end(o.body);
  });
}

/**
 * The one TCP probe of the suites: what a plain connect from inside `netns` (null: the host) to host:port does,
 * 'open' or 'closed' (refused, unreachable, or a SYN dropped for 3 s). bash's /dev/tcp, so it runs in a namespace.
 */
export async function tcpProbe(netns: string | null, host: string, port: number): Promise<'open' | 'closed'> {
  try {
    await run('timeout', ['3', 'bash', '-c', `exec 3<>/dev/tcp/${host}/${port}`], { netns });
    return 'open';
  } catch {
    return 'closed';
  }
}

/** What a TCP connect from the client namespace (the outside world) to host:port does. */
export async function probeFromClient(m: StackManifest, host: string, port: number): Promise<'open' | 'closed'> {
  if (!m.clientNetns) throw new Error('no client namespace in this stack (loopback isolation)');
  return tcpProbe(m.clientNetns, host, port);
}

/** curl from the client namespace (the outside world); returns the HTTP status or 0 when nothing answered. */
export async function curlFromClient(m: StackManifest, url: string, extra: string[] = []): Promise<number> {
  if (!m.clientNetns) throw new Error('no client namespace in this stack (loopback isolation)');
  try {
    const out = await run(
      'curl',
      ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--connect-timeout', '3', '--max-time', '10', '--cacert', m.caFile, ...extra, url],
      { netns: m.clientNetns },
    );
    return Number(out.trim()) || 0;
  } catch {
    return 0;
  }
}

/** The MCP protocol version the suites' raw requests speak, and the headers every MCP POST carries. */
const MCP_PROTOCOL = '2025-06-18';
const MCP_POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } as const;

/**
 * One raw MCP `initialize` POST at `path` (a query string included) with the given headers added to the MCP ones:
 * no Authorization unless `headers` carries one, so a suite can present any credential, or none, and see the
 * edge's exact answer.
 */
export function rawInitialize(m: StackManifest, path: string, headers: Record<string, string> = {}, clientName = 'suite'): Promise<RawResponse> {
  return rawRequest(m, {
    method: 'POST',
    path,
    headers: { ...MCP_POST_HEADERS, ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: MCP_PROTOCOL, capabilities: {}, clientInfo: { name: clientName, version: '1' } },
    }),
  });
}

/**
 * A 2025-era MCP session over raw HTTPS, one connection per request, so a test sees the edge's exact status
 * and body for every call (the SDK client hides them). `status` is initialize's: the caller asserts it.
 */
export async function rawMcpSession(m: StackManifest, route: string, token: string, clientName: string) {
  const headers: Record<string, string> = { ...MCP_POST_HEADERS, authorization: `Bearer ${token}` };
  const post = (body: string) => rawRequest(m, { method: 'POST', path: route, headers, body });
  const init = await rawInitialize(m, route, { authorization: headers.authorization as string }, clientName);
  const sessionId = init.headers['mcp-session-id'] as string | undefined;
  let initialized: number | undefined;
  if (init.status === 200 && sessionId) {
    headers['mcp-session-id'] = sessionId;
    headers['mcp-protocol-version'] = MCP_PROTOCOL;
    initialized = (await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }))).status;
  }
  let id = 1;
  return {
    status: init.status,
    /** notifications/initialized's status (202), when initialize succeeded. */
    initialized,
    sessionId,
    call: (name: string, args: unknown) => post(JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name, arguments: args } })),
    close: () => rawRequest(m, { method: 'DELETE', path: route, headers }).catch(() => undefined),
  };
}

/**
 * A minimal MCP Streamable HTTP client for the load generator: JSON-RPC by hand over node:http(s) with a
 * keep-alive agent. The SDK client validates every message with zod and goes through fetch; at 16 clients
 * on 2 cores that costs as much CPU as the server under test, so the bench measured its own client. This one
 * does only what an agent's wire needs: initialize, notifications/initialized, tools/call, DELETE. It reads a
 * JSON answer or an SSE stream (the official server answers tools/call as `text/event-stream`).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export const PROTOCOL_VERSION = '2025-11-25';

export interface RawClientOptions {
  url: string;
  /** Sent with every request (proxy credential, identity headers, bearer token). */
  headers: Record<string, string>;
  /** PEM of the CA that signed the server's certificate (https only). */
  ca?: Buffer;
  timeoutMs: number;
}

interface Reply {
  status: number;
  sessionId: string | undefined;
  contentType: string;
  body: string;
}

/** One agent per client pool: keep-alive, one socket per concurrent session, never re-handshaking TLS. */
export function rawAgent(url: string, ca: Buffer | undefined): HttpAgent {
  return url.startsWith('https:') ? new HttpsAgent({ keepAlive: true, ca, maxSockets: Infinity }) : new HttpAgent({ keepAlive: true, maxSockets: Infinity });
}

function send(o: RawClientOptions, agent: HttpAgent, method: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  const u = new URL(o.url);
  const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)({
    method,
    host: u.hostname,
    port: u.port,
    path: u.pathname,
    agent,
    timeout: o.timeoutMs,
    headers: {
      ...o.headers,
      ...headers,
      accept: 'application/json, text/event-stream',
      ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
    },
  });
  return new Promise<Reply>((resolve, reject) => {
    req.once('timeout', () => req.destroy(new Error(`timed out after ${o.timeoutMs} ms`)));
    req.once('error', reject);
    req.once('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => {
        const sid = res.headers['mcp-session-id'];
        resolve({
          status: res.statusCode ?? 0,
          sessionId: typeof sid === 'string' ? sid : undefined,
          contentType: res.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(body);
  });
}

/** The JSON-RPC response with `id` from a JSON body or an SSE stream's `data:` lines. */
function responseFor(r: Reply, id: number): { result?: unknown; error?: { message: string } } {
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
  const messages = r.contentType.startsWith('text/event-stream')
    ? r.body
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => JSON.parse(l.slice(5)) as { id?: unknown })
    : [JSON.parse(r.body) as { id?: unknown }];
  const m = messages.find((x) => x.id === id);
  if (!m) throw new Error(`no JSON-RPC response with id ${id}`);
  return m as { result?: unknown; error?: { message: string } };
}

export interface RawSession {
  /** Calls a tool; resolves to its text, throws on a transport error, a JSON-RPC error or `isError`. */
  callTool(name: string, args: Record<string, unknown>): Promise<string>;
  /** DELETE: ends the session server-side (so it never counts against the caller's session quota). */
  close(): Promise<void>;
}

export async function openRawSession(o: RawClientOptions, agent: HttpAgent): Promise<RawSession> {
  let nextId = 1;
  const init = await send(
    o,
    agent,
    'POST',
    {},
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'bench', version: '1.0.0' } },
    }),
  );
  const r = responseFor(init, 0);
  if (r.error) throw new Error(`initialize: ${r.error.message}`);
  // The version the server chose (an older server answers with its own): every later request names it.
  const version = (r.result as { protocolVersion?: string } | undefined)?.protocolVersion ?? PROTOCOL_VERSION;
  const session: Record<string, string> = { 'mcp-protocol-version': version, ...(init.sessionId ? { 'mcp-session-id': init.sessionId } : {}) };
  const ack = await send(o, agent, 'POST', session, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  if (ack.status !== 202 && ack.status !== 200) throw new Error(`notifications/initialized: HTTP ${ack.status}`);
  return {
    async callTool(name, args) {
      const id = nextId++;
      const reply = responseFor(
        await send(o, agent, 'POST', session, JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } })),
        id,
      );
      if (reply.error) throw new Error(`JSON-RPC error: ${reply.error.message}`);
      const res = reply.result as { isError?: boolean; content?: Array<{ text?: string }> };
      const text = (res.content ?? []).map((c) => c.text ?? '').join('\n');
      if (res.isError) throw new Error(`tool error: ${text.slice(0, 200)}`);
      return text;
    },
    async close() {
      if (init.sessionId) await send(o, agent, 'DELETE', session).catch(() => undefined);
    },
  };
}

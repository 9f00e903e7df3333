/**
 * The soak's callers: each one an agent with its own 2025-06-18 session through the edge (TLS, bearer token,
 * auth_request to the verifier, then an MCP server), calling one tool back to back `calls` times. Raw JSON-RPC
 * over kept-alive connections (undici), so the load generator stays small next to the stack on a 2-core machine.
 * Quota refusals (the edge's per-IP limits, the MCP servers' per-caller and global ones) are expected under load:
 * counted apart, honoured (Retry-After) and the call retried. Anything else is an error, counted by kind.
 * The counts are what the audit logs are checked against: every request that passed the edge's limiter has one
 * verifier record; every answered tools/call and every MCP-tier refusal has one MCP record.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { StackManifest } from '../tests/harness/manifest.ts';
import type { Identity } from './soak-identities.ts';

const PROTOCOL = '2025-06-18';
const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
/** A refused call is retried at most this often before it counts as an error (a quota that never frees). */
const MAX_RETRIES = 50;

export interface SoakOptions {
  callers: number;
  calls: number;
  /** The tool each caller calls, with its arguments. */
  tool: { name: string; arguments: Record<string, unknown> };
  /** Calls per second over all callers; 0: as fast as the stack answers. Below the edge's 200 r/s, no edge 429. */
  rate: number;
  /** A time budget in ms: callers start no call after it (the run then reports how many calls each one made). */
  budgetMs?: number;
  /** Called every ~second with calls done so far (progress, RSS sampling is separate). */
  onProgress?: (done: number) => void;
}

export interface SoakCounts {
  /** tools/call answered with a result. */
  ok: number;
  /** Unexpected outcomes by kind (`tool DB_ERROR`, `http 502 upstream_unavailable`, `network ECONNRESET`): must be empty. */
  errors: Record<string, number>;
  /** Quota refusals by kind (`edge 429 rate_limited`, `mcp 429 CALLER_BUSY`, `mcp 503 SERVER_BUSY`): retried. */
  quota: Record<string, number>;
  /** HTTP requests sent, and those the edge's limiter let through to auth_request (each one verifier record). */
  requests: number;
  pastEdgeLimiter: number;
  /** tools/call requests answered by an MCP server (result or tool error): each one MCP `tool_call` record. */
  toolCallsAnswered: number;
  /** MCP-tier refusals of requests in a session (each one MCP `http_refused` record with that session id). */
  mcpRefusedInSession: number;
  sessions: { ro: string[]; rw: string[] };
  /** The 12-hex prefix of sha256 of every token used (how the verifier's audit names a token). */
  tokenHashes: string[];
  /** Calls completed per caller (each must reach `calls`). */
  perCaller: number[];
  /** True when the time budget ended the run before every caller made its calls. */
  stoppedByBudget: boolean;
  elapsedMs: number;
  latencyMs: { p50: number; p99: number; max: number };
}

const sha12 = (t: string) => createHash('sha256').update(t).digest('hex').slice(0, 12);
const bump = (o: Record<string, number>, k: string) => {
  o[k] = (o[k] ?? 0) + 1;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The JSON-RPC message of an answer: a JSON body, or the first `data:` line of an event stream. */
function rpcOf(
  text: string,
): { result?: { isError?: boolean; structuredContent?: { error?: { code?: string } } }; error?: { data?: { code?: string }; message?: string } } | undefined {
  const t = text.trimStart();
  const json = t.startsWith('{') ? t : /^data: (.*)$/m.exec(t)?.[1];
  try {
    return json ? JSON.parse(json) : undefined;
  } catch {
    return undefined;
  }
}

/** The closed code of a refusal body: the edge's `{"error": …}` or the MCP server's JSON-RPC error data. */
function refusalCode(text: string): string {
  try {
    const b = JSON.parse(text) as { error?: string | { data?: { code?: string }; message?: string } };
    if (typeof b.error === 'string') return b.error;
    return b.error?.data?.code ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Paces all callers together to `rate` calls per second (0: no pacing). */
function pacer(rate: number): () => Promise<void> {
  if (rate <= 0) return async () => undefined;
  let next = performance.now();
  return async () => {
    const now = performance.now();
    next = Math.max(next + 1000 / rate, now);
    if (next > now) await sleep(next - now);
  };
}

export async function runSoak(m: StackManifest, identities: Identity[], o: SoakOptions): Promise<SoakCounts> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(m.caFile) }, keepAliveTimeout: 30_000 });
  const counts: SoakCounts = {
    ok: 0,
    errors: {},
    quota: {},
    requests: 0,
    pastEdgeLimiter: 0,
    toolCallsAnswered: 0,
    mcpRefusedInSession: 0,
    sessions: { ro: [], rw: [] },
    tokenHashes: [],
    perCaller: Array.from({ length: o.callers }, () => 0),
    stoppedByBudget: false,
    elapsedMs: 0,
    latencyMs: { p50: 0, p99: 0, max: 0 },
  };
  const latencies: number[] = [];
  const pace = pacer(o.rate);
  const routePath = { ro: new URL(m.resources.readOnly).pathname, rw: new URL(m.resources.readWrite).pathname };

  /** One HTTP request; `undefined` body text on a network error (counted by the caller). */
  async function send(
    identity: Identity,
    method: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; text: string; headers: Record<string, unknown> } | { network: string }> {
    const token = await identity.token();
    counts.requests++;
    try {
      const r = await request(`${m.edgeUrl}${routePath[identity.route]}`, {
        method: method as 'POST',
        dispatcher,
        body,
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
        headers: { ...BASE_HEADERS, ...headers, authorization: `Bearer ${token}` },
      });
      const text = await r.body.text();
      // The edge's limiter answers 429 itself, before auth_request: no verifier record. Everything else passed it.
      const edgeLimited = r.statusCode === 429 && /^\{"error":"(rate_limited|too_many_connections)"/.test(text);
      if (!edgeLimited) counts.pastEdgeLimiter++;
      return { status: r.statusCode, text, headers: r.headers };
    } catch (e) {
      return { network: (e as { code?: string }).code ?? (e as Error).name };
    }
  }

  /** Sends until the answer is not a quota refusal (Retry-After honoured); returns the final answer. */
  async function sendRetrying(identity: Identity, sessionId: string | undefined, method: string, headers: Record<string, string>, body?: string) {
    for (let attempt = 0; ; attempt++) {
      const r = await send(identity, method, headers, body);
      if ('network' in r || (r.status !== 429 && r.status !== 503) || attempt >= MAX_RETRIES) return r;
      const code = refusalCode(r.text);
      const tier = code === 'rate_limited' || code === 'too_many_connections' ? 'edge' : 'mcp';
      bump(counts.quota, `${tier} ${r.status} ${code}`);
      if (tier === 'mcp' && sessionId) counts.mcpRefusedInSession++;
      const after = Number(r.headers['retry-after']);
      await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 5) * 1000 : 250);
    }
  }

  async function caller(index: number, identity: Identity): Promise<void> {
    const rpc = (id: number, method: string, params: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
    const init = await sendRetrying(
      identity,
      undefined,
      'POST',
      {},
      rpc(0, 'initialize', { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: `soak-${index}`, version: '1' } }),
    );
    const sessionId = 'network' in init ? undefined : (init.headers['mcp-session-id'] as string | undefined);
    if ('network' in init || init.status !== 200 || !sessionId) {
      bump(counts.errors, 'network' in init ? `initialize network ${init.network}` : `initialize http ${init.status} ${refusalCode(init.text)}`);
      return;
    }
    counts.sessions[identity.route].push(sessionId);
    const session = { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL };
    const ack = await sendRetrying(identity, sessionId, 'POST', session, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    if ('network' in ack || ack.status !== 202) bump(counts.errors, 'network' in ack ? `initialized network ${ack.network}` : `initialized http ${ack.status}`);
    try {
      for (let k = 1; k <= o.calls; k++) {
        if (performance.now() > deadline) {
          counts.stoppedByBudget = true;
          break;
        }
        await pace();
        const t0 = performance.now();
        const r = await sendRetrying(identity, sessionId, 'POST', session, rpc(k, 'tools/call', o.tool));
        if ('network' in r) {
          bump(counts.errors, `network ${r.network}`);
          continue;
        }
        const msg = rpcOf(r.text);
        if (r.status === 200 && msg?.result) {
          counts.toolCallsAnswered++;
          if (msg.result.isError) bump(counts.errors, `tool ${msg.result.structuredContent?.error?.code ?? 'error'}`);
          else {
            counts.ok++;
            counts.perCaller[index]!++;
            latencies.push(performance.now() - t0);
          }
        } else {
          bump(counts.errors, `http ${r.status} ${refusalCode(r.text)}`);
        }
      }
    } finally {
      // DELETE ends the session (MCP Streamable HTTP): it must not count against the caller's quota afterwards.
      await send(identity, 'DELETE', session);
    }
  }

  const t0 = performance.now();
  const deadline = o.budgetMs ? t0 + o.budgetMs : Infinity;
  const progress = o.onProgress && setInterval(() => o.onProgress!(counts.ok), 1_000);
  try {
    // Callers start 10 ms apart: 64 TLS handshakes and initializes at once are a burst no real fleet sends.
    await Promise.all(
      Array.from({ length: o.callers }, async (_, i) => {
        await sleep(i * 10);
        return caller(i, identities[Math.floor(i / Math.ceil(o.callers / identities.length))]!);
      }),
    );
  } finally {
    if (progress) clearInterval(progress);
    counts.elapsedMs = performance.now() - t0;
    await dispatcher.close();
  }
  counts.tokenHashes = [...new Set(identities.flatMap((i) => i.issued.map(sha12)))];
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  counts.latencyMs = { p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? 0 };
  return counts;
}

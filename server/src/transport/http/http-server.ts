import { createServer as createNodeServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/server';
import type { Config } from '../../config/schema.ts';
import type { AuditSink } from '../../audit/audit-log.ts';
import type { Identity } from '../../identity/identity.ts';
import {
  checkHost,
  checkNoToken,
  checkOrigin,
  checkProxyAuth,
  checkSingleMessage,
  allowedHosts,
  callerKey,
  identityFrom,
  requestIdOf,
  type Refusal,
} from './request-guards.ts';
import { readBody, sendJson, sendJsonRpcError, sendWebResponse } from './replies.ts';
import { SessionStore } from './session-store.ts';
import { ConcurrencyGate } from './concurrency-gate.ts';
import { createMcpRouter } from './mcp-router.ts';
import { auditUndeliveredToolCall } from '../../audit/undelivered-call.ts';
import { ResponseBudget, responseTooLargeMessage, withResponseBudget } from '../response-budget.ts';
import type { ServerMetrics } from '../../metrics/registry.ts';
import { observeSessions } from '../../metrics/sessions.ts';
import { tracingEnabled } from '../../tracing/setup.ts';
import { tracedHandler } from '../../tracing/spans.ts';

/** Held back from each request's byte budget for what tools do not write: the JSON-RPC envelope, headlines. */
const ENVELOPE_RESERVE = 1024;

export interface HttpServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Streamable HTTP on node:http: /mcp and /healthz, every request through the guards first. */
export async function startHttpServer(config: Config, factory: () => Server, audit: AuditSink, metrics?: ServerMetrics): Promise<HttpServerHandle> {
  const sessions = new SessionStore({ max: config.maxSessions, perCaller: config.maxSessionsPerCaller, idleMs: config.sessionIdleMs });
  if (metrics) observeSessions(sessions, metrics);
  const gate = new ConcurrencyGate(config.maxConcurrentRequestsPerCaller, config.maxConcurrentRequests);
  const router = createMcpRouter(factory, sessions, config.httpBodyLimit);
  let hosts = allowedHosts(config, config.httpPort);

  function refuse(req: IncomingMessage, res: ServerResponse, r: Refusal, who: Identity | null = null, id: string | number | null = null): void {
    audit.write({
      time: new Date().toISOString(),
      event: 'http_refused',
      requestId: requestIdOf(req.headers) ?? null,
      sessionId: typeof req.headers['mcp-session-id'] === 'string' ? req.headers['mcp-session-id'].slice(0, 64) : null,
      tokenId: who?.tokenId ?? null,
      subject: who?.subject ?? null,
      username: who?.username ?? null,
      agent: who?.clientId ?? null,
      outcome: 'refused',
      errorCode: r.code,
      httpStatus: r.status,
      method: req.method ?? '',
      path: (req.url ?? '').split('?')[0]?.slice(0, 128) ?? '',
    });
    sendJsonRpcError(res, r.status, r.rpcCode ?? -32000, r.message, r.code, {
      id,
      ...(r.retryAfterSeconds !== undefined ? { retryAfterSeconds: r.retryAfterSeconds } : {}),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const hostRefusal = checkHost(req.headers, hosts);
    if (hostRefusal) return refuse(req, res, hostRefusal);
    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (path !== '/mcp') return sendJson(res, 404, { error: 'not found' });
    const early = checkOrigin(req.headers, config) ?? checkProxyAuth(req.headers, config) ?? checkNoToken(req.headers);
    if (early) return refuse(req, res, early);
    const identity = identityFrom(req.headers, config);
    let parsedBody: unknown;
    if (req.method === 'POST') {
      // Taken before the body is read: a caller's slow bodies occupy its own places, nobody else's.
      const entry = gate.enter(callerKey(identity));
      if (entry.kind === 'caller-busy')
        return refuse(
          req,
          res,
          {
            status: 429,
            code: 'CALLER_BUSY',
            message: `Too many requests in flight for this caller (maxConcurrentRequestsPerCaller=${config.maxConcurrentRequestsPerCaller}); retry later`,
            retryAfterSeconds: 1,
          },
          identity,
        );
      if (entry.kind === 'server-busy')
        return refuse(req, res, { status: 503, code: 'SERVER_BUSY', message: 'Too many requests in flight; retry later', retryAfterSeconds: 1 }, identity);
      // Given back when the answer has left (or the client has gone): until then its bytes are still held here.
      res.once('close', entry.leave);
      const body = await readBody(req, config.httpBodyLimit);
      if (body.kind === 'too-large') {
        res.setHeader('connection', 'close');
        return refuse(req, res, { status: 413, code: 'BODY_TOO_LARGE', message: 'Request body too large' }, identity);
      }
      try {
        parsedBody = JSON.parse(body.text);
      } catch {
        return sendJsonRpcError(res, 400, -32700, 'Parse error: invalid JSON');
      }
      const batch = checkSingleMessage(parsedBody);
      if (batch) return refuse(req, res, batch, identity);
    }
    // The SDK reads the body only when it is not given one parsed: the Request carries headers, no body
    // (a body would be copied into a stream nobody reads, on every call).
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const request = new Request(`http://${req.headers.host}${req.url ?? '/mcp'}`, { method: req.method ?? 'GET', headers });
    // A GET may open the session's standalone stream: counted until its answer ends (mcp-router.ts).
    const listenFor = req.method === 'GET' ? req.headers['mcp-session-id'] : undefined;
    if (typeof listenFor === 'string') res.once('close', sessions.listen(listenFor));
    const budget = new ResponseBudget(config.maxResponseBytes);
    budget.charge(ENVELOPE_RESERVE);
    const routed = await withResponseBudget(budget, () => router.route(request, parsedBody, identity));
    if (routed.kind === 'refused') return refuse(req, res, routed.refusal, identity);
    // A tools/call the SDK's entry refused before any server instance saw it still gets its one record.
    await auditUndeliveredToolCall(request, parsedBody, routed.response, identity, audit);
    if ((await sendWebResponse(res, routed.response, config.maxResponseBytes)) === 'too-large') {
      // The tools' own accounting keeps this rare (JSON escaping only grows text); the answer still never leaves.
      const tooLarge: Refusal = { status: 200, code: 'RESPONSE_TOO_LARGE', message: responseTooLargeMessage(config.maxResponseBytes) };
      refuse(req, res, tooLarge, identity, jsonRpcIdOf(parsedBody));
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      process.stderr.write(`http: request failed: ${(err as Error)?.name ?? 'error'}\n`);
      sendJsonRpcError(res, 500, -32603, 'Internal error');
    });
  };
  // Tracing off: the handler itself, not a wrapper that checks a flag per request.
  const server = createNodeServer(tracingEnabled() ? tracedHandler(onRequest) : onRequest);
  // nginx forwards a body only once it has all of it (proxy_request_buffering on): a body still arriving after
  // 30 s is a slow client around the edge, holding one of its caller's places.
  server.requestTimeout = 30_000;
  server.headersTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.httpPort, config.httpHost, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(config, port);
  const hostPart = config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost;
  return {
    url: `http://${hostPart}:${port}/mcp`,
    port,
    async close() {
      await sessions.closeAll();
      await router.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The id of a single JSON-RPC request, to answer it in kind; null when there is none. */
function jsonRpcIdOf(body: unknown): string | number | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

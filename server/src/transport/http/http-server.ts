import { createServer as createNodeServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from '@modelcontextprotocol/server';
import type { Config } from '../../config/schema.ts';
import type { AuditSink } from '../../audit/audit-log.ts';
import { checkHost, checkNoToken, checkOrigin, checkProxyAuth, allowedHosts, identityFrom, requestIdOf, type Refusal } from './request-guards.ts';
import { readBody, sendJson, sendJsonRpcError, sendWebResponse } from './replies.ts';
import { SessionStore } from './session-store.ts';
import { createMcpRouter } from './mcp-router.ts';

export interface HttpServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Streamable HTTP on node:http: /mcp and /healthz, every request through the guards first. */
export async function startHttpServer(config: Config, factory: () => Server, audit: AuditSink): Promise<HttpServerHandle> {
  const sessions = new SessionStore(config.maxSessions, config.sessionIdleMs);
  const router = createMcpRouter(factory, sessions, config.httpBodyLimit);
  let hosts = allowedHosts(config, config.httpPort);

  function refuse(req: IncomingMessage, res: ServerResponse, r: Refusal, subject: string | null = null): void {
    audit.write({
      time: new Date().toISOString(), event: 'http_refused', requestId: requestIdOf(req.headers) ?? null,
      sessionId: typeof req.headers['mcp-session-id'] === 'string' ? req.headers['mcp-session-id'].slice(0, 64) : null,
      subject, username: null, agent: null, outcome: 'refused', errorCode: r.code, httpStatus: r.status,
      method: req.method ?? '', path: (req.url ?? '').split('?')[0]?.slice(0, 128) ?? '',
    });
    sendJsonRpcError(res, r.status, -32000, r.message, r.code);
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
    let bodyText: string | undefined;
    if (req.method === 'POST') {
      const body = await readBody(req, config.httpBodyLimit);
      if (body.kind === 'too-large') {
        res.setHeader('connection', 'close');
        return refuse(req, res, { status: 413, code: 'BODY_TOO_LARGE', message: 'Request body too large' }, identity.subject);
      }
      bodyText = body.text;
      try {
        parsedBody = JSON.parse(body.text);
      } catch {
        return sendJsonRpcError(res, 400, -32700, 'Parse error: invalid JSON');
      }
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const request = new Request(`http://${req.headers.host}${req.url ?? '/mcp'}`, {
      method: req.method ?? 'GET',
      headers,
      ...(bodyText !== undefined ? { body: bodyText } : {}),
    });
    const routed = await router.route(request, parsedBody, identity);
    if (routed.kind === 'refused') return refuse(req, res, routed.refusal, identity.subject);
    await sendWebResponse(res, routed.response);
  }

  const server = createNodeServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      process.stderr.write(`http: request failed: ${(err as Error)?.name ?? 'error'}\n`);
      sendJsonRpcError(res, 500, -32603, 'Internal error');
    });
  });
  server.requestTimeout = 120_000;
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

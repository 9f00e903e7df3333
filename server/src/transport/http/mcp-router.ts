import { randomUUID } from 'node:crypto';
import { createMcpHandler, isInitializeRequest, isLegacyRequest, WebStandardStreamableHTTPServerTransport, type Server } from '@modelcontextprotocol/server';
import { toAuthInfo, type Identity } from '../../identity/identity.ts';
import { callerKey, type Refusal } from './request-guards.ts';
import type { SessionStore } from './session-store.ts';

export type Routed = { kind: 'response'; response: Response } | { kind: 'refused'; refusal: Refusal };

const SESSION_NOT_FOUND: Refusal = { status: 404, code: 'SESSION_NOT_FOUND', message: 'Session not found' };

/**
 * Routes one /mcp request by protocol era: 2026-07-28 requests (per-request `_meta` envelope) go to the
 * SDK's stateless handler; 2025-era requests go to a sessionful Streamable HTTP transport, one server
 * instance per session, the session bound to (and counted against) the caller that initialized it.
 */
export function createMcpRouter(factory: () => Server, sessions: SessionStore, bodyLimit: number) {
  const modern = createMcpHandler(() => factory(), { legacy: 'reject', maxRequestBodySize: bodyLimit });

  async function legacy(request: Request, parsedBody: unknown, identity: Identity): Promise<Routed> {
    const authInfo = toAuthInfo(identity);
    const caller = callerKey(identity);
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const found = sessions.lookup(sessionId, caller);
      if (found === 'wrong-caller' || found === 'not-found') return { kind: 'refused', refusal: SESSION_NOT_FOUND };
      return { kind: 'response', response: await found.transport.handleRequest(request, { parsedBody, authInfo }) };
    }
    if (request.method !== 'POST' || !isInitializeRequest(parsedBody)) {
      return { kind: 'refused', refusal: { status: 400, code: 'SESSION_NOT_FOUND', message: 'Bad Request: Mcp-Session-Id header is required' } };
    }
    const admission = sessions.admit(caller);
    if (admission.kind === 'caller-limit') {
      return {
        kind: 'refused',
        refusal: {
          status: 429,
          code: 'CALLER_SESSION_LIMIT',
          message: `Too many sessions for this caller (maxSessionsPerCaller); end one (DELETE) or retry later`,
          retryAfterSeconds: admission.retryAfterSeconds,
        },
      };
    }
    if (admission.kind === 'global-limit') {
      return { kind: 'refused', refusal: { status: 503, code: 'SESSION_LIMIT', message: 'Too many sessions', retryAfterSeconds: admission.retryAfterSeconds } };
    }
    const { reservation } = admission;
    try {
      const server = factory();
      const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: true,
        onsessioninitialized: (id): void => sessions.add({ id, transport, server }, reservation),
        onsessionclosed: (id) => sessions.delete(id),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      // A notification not tied to a request travels only on the session's GET stream; with none open the SDK
      // drops it — after its schema checks. Every tools/call sends one (its audit event, server-events.ts), so
      // it is dropped here, unchecked. The stream is counted before its GET is routed (http-server.ts).
      const send = transport.send.bind(transport);
      transport.send = (message, options) =>
        options?.relatedRequestId === undefined && !('id' in message) && !sessions.listening(transport.sessionId) ? Promise.resolve() : send(message, options);
      await server.connect(transport);
      return { kind: 'response', response: await transport.handleRequest(request, { parsedBody, authInfo }) };
    } finally {
      reservation.release(); // an initialize the SDK refused created no session: its place is free again
    }
  }

  return {
    async route(request: Request, parsedBody: unknown, identity: Identity): Promise<Routed> {
      if (await isLegacyRequest(request, parsedBody, { maxRequestBodySize: bodyLimit })) return legacy(request, parsedBody, identity);
      return { kind: 'response', response: await modern.fetch(request, { parsedBody, authInfo: toAuthInfo(identity) }) };
    },
    close: () => modern.close(),
  };
}

import { randomUUID } from 'node:crypto';
import {
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  WebStandardStreamableHTTPServerTransport,
  type Server,
} from '@modelcontextprotocol/server';
import { toAuthInfo, type Identity } from '../../identity/identity.ts';
import type { Refusal } from './request-guards.ts';
import type { SessionStore } from './session-store.ts';

export type Routed = { kind: 'response'; response: Response } | { kind: 'refused'; refusal: Refusal };

/**
 * Routes one /mcp request by protocol era: 2026-07-28 requests (per-request `_meta` envelope) go to the
 * SDK's stateless handler; 2025-era requests go to a sessionful Streamable HTTP transport, one server
 * instance per session, the session bound to the subject that initialized it.
 */
export function createMcpRouter(factory: () => Server, sessions: SessionStore, bodyLimit: number) {
  const modern = createMcpHandler(() => factory(), { legacy: 'reject', maxRequestBodySize: bodyLimit });

  async function legacy(request: Request, parsedBody: unknown, identity: Identity): Promise<Routed> {
    const authInfo = toAuthInfo(identity);
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const found = sessions.lookup(sessionId, identity.subject);
      if (found === 'wrong-subject') return { kind: 'refused', refusal: { status: 404, code: 'SESSION_NOT_FOUND', message: 'Session not found' } };
      if (found === 'not-found') return { kind: 'refused', refusal: { status: 404, code: 'SESSION_NOT_FOUND', message: 'Session not found' } };
      return { kind: 'response', response: await found.transport.handleRequest(request, { parsedBody, authInfo }) };
    }
    if (request.method !== 'POST' || !isInitializeRequest(parsedBody)) {
      return { kind: 'refused', refusal: { status: 400, code: 'SESSION_NOT_FOUND', message: 'Bad Request: Mcp-Session-Id header is required' } };
    }
    if (sessions.isFull()) return { kind: 'refused', refusal: { status: 503, code: 'SESSION_LIMIT', message: 'Too many sessions' } };
    const server = factory();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id): void => sessions.add({ id, subject: identity.subject, transport, server }),
      onsessionclosed: (id) => sessions.delete(id),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    return { kind: 'response', response: await transport.handleRequest(request, { parsedBody, authInfo }) };
  }

  return {
    async route(request: Request, parsedBody: unknown, identity: Identity): Promise<Routed> {
      if (await isLegacyRequest(request, parsedBody, { maxRequestBodySize: bodyLimit })) return legacy(request, parsedBody, identity);
      return { kind: 'response', response: await modern.fetch(request, { parsedBody, authInfo: toAuthInfo(identity) }) };
    },
    close: () => modern.close(),
  };
}

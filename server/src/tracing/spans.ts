import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { MongoClient } from 'mongodb';
import type { AuditRecord, AuditSink } from '../audit/audit-log.ts';
import { codeLabel } from '../metrics/registry.ts';

/**
 * The server's spans: one per HTTP request (a child of the edge's `traceparent`, whose trace id is nginx's
 * $request_id), one per tools/call (from its audit record) and one per database command (driver command
 * monitoring). Attributes are closed values — route, status, tool name from the registry, error code, command
 * name — never arguments, documents, tokens or identity headers.
 */
const tracer = trace.getTracer('mongodb-mcp-secure');

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Runs each request inside a SERVER span continuing the edge's trace context. */
export function tracedHandler(handler: Handler): Handler {
  return (req, res) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      `${req.method ?? 'GET'} ${(req.url ?? '/').split('?')[0]?.slice(0, 64)}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method ?? '', 'mcp.request_id': requestIdOf(req) },
      },
      parent,
    );
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => handler(req, res));
  };
}

/** A tools/call span, made from its audit record when the record is written (still inside the request's context). */
export function recordToolSpan(r: AuditRecord): void {
  if (r.event !== 'tool_call') return;
  const known = r.operationType != null && r.tool != null;
  const end = Date.now();
  const span = tracer.startSpan(`tools/call ${known ? r.tool : 'unknown'}`, {
    kind: SpanKind.INTERNAL,
    startTime: end - (r.durationMs ?? 0),
    attributes: {
      'mcp.tool.name': known ? (r.tool as string) : 'unknown',
      'mcp.outcome': r.outcome,
      'mcp.error_code': codeLabel(r.errorCode),
      ...(r.requestId ? { 'mcp.request_id': r.requestId } : {}),
    },
  });
  if (r.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(end);
}

/** One CLIENT span per database command, a child of whatever span is active when the driver sends it. */
export function traceDriverCommands(client: MongoClient): void {
  const open = new Map<number, Span>();
  client.on('commandStarted', (e) => {
    open.set(
      e.requestId,
      tracer.startSpan(`mongodb ${e.commandName}`, {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system.name': 'mongodb', 'db.operation.name': e.commandName },
      }),
    );
  });
  const finish = (e: { requestId: number }, failed: boolean): void => {
    const span = open.get(e.requestId);
    if (!span) return;
    open.delete(e.requestId);
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  client.on('commandSucceeded', (e) => finish(e, false));
  client.on('commandFailed', (e) => finish(e, true));
}

function requestIdOf(req: IncomingMessage): string {
  const id = req.headers['x-request-id'];
  return typeof id === 'string' && /^[\w.:-]{1,128}$/.test(id) ? id : '';
}

/** The audit sink, plus a tools/call span for each record it is given. */
export function tracingAuditSink(inner: AuditSink): AuditSink {
  const sink: AuditSink = {
    write(r) {
      try {
        inner.write(r);
      } finally {
        recordToolSpan(r);
      }
    },
  };
  if (inner.ready) sink.ready = () => inner.ready?.();
  return sink;
}

/**
 * OpenTelemetry for the verifier: off unless VERIFIER_OTLP_TRACES_ENDPOINT is set (then the SDK is loaded at all).
 * One SERVER span per /verify, a child of the edge's `traceparent` (trace id = nginx's $request_id), carrying the
 * decision (outcome, code, route) — closed values only, never the token, a claim or the URI.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import type { AuditSink } from './audit.ts';

const tracer = trace.getTracer('mcp-verifier');

export async function startTracing(endpoint: string): Promise<{ shutdown(): Promise<void> } | undefined> {
  if (endpoint === '') return undefined;
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/exporter-trace-otlp-http')]);
  // No resource detection: the process detector would copy argv into every span batch.
  const sdk = new NodeSDK({
    serviceName: 'verifier',
    traceExporter: new OTLPTraceExporter({ url: endpoint }),
    autoDetectResources: false,
    instrumentations: [],
  });
  sdk.start();
  return sdk;
}

/** Runs the server's request listener inside a span per request. */
export function traceRequests(server: Server): void {
  const listeners = server.listeners('request') as ((...a: unknown[]) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(`${req.method ?? 'GET'} ${req.url?.split('?')[0]?.slice(0, 32) ?? '/'}`, { kind: SpanKind.SERVER }, parent);
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => {
      for (const l of listeners) l(req, res);
    });
  });
}

/** Writes the decision onto the request's span (the audit sink is called inside its context). */
export function tracingAuditSink(inner: AuditSink): AuditSink {
  return (e) => {
    const span = trace.getActiveSpan();
    span?.setAttributes({
      'verifier.outcome': e.outcome,
      'verifier.code': e.code,
      'verifier.route': e.route ?? 'none',
      ...(e.requestId ? { 'mcp.request_id': e.requestId } : {}),
    });
    inner(e);
  };
}

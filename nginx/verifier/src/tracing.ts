/**
 * OpenTelemetry for the verifier: off unless VERIFIER_OTLP_TRACES_ENDPOINT is set (then the SDK is loaded at all).
 * One SERVER span per /verify, a child of the edge's `traceparent` (trace id = nginx's $request_id), carrying the
 * decision (outcome, code, route) — closed values only, never the token, a claim or the URI.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import type { AuditSink } from './audit.ts';

const tracer = trace.getTracer('mcp-verifier');

/** One export request (retries included), and shutdown's budget for the last batch: spans are best effort. */
const EXPORT_TIMEOUT_MS = 2_000;
const FLUSH_MS = 2_000;

export interface Tracing {
  /**
   * Sends the spans still batched within `timeoutMs` and resolves whatever the collector does (gone, refusing, or
   * accepting and never answering, which outlasts any socket timeout); never rejects. Unsent spans are dropped.
   */
  shutdown(timeoutMs?: number): Promise<'flushed' | 'timed-out' | 'failed'>;
}

export async function startTracing(endpoint: string): Promise<Tracing | undefined> {
  if (endpoint === '') return undefined;
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/exporter-trace-otlp-http')]);
  // No resource detection: the process detector would copy argv into every span batch. No metrics reader and
  // no log exporter (empty, not absent: absent, the SDK adds OTLP ones aimed at localhost:4318 by default).
  const sdk = new NodeSDK({
    serviceName: 'verifier',
    traceExporter: new OTLPTraceExporter({ url: endpoint, timeoutMillis: EXPORT_TIMEOUT_MS }),
    autoDetectResources: false,
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  return {
    async shutdown(timeoutMs = FLUSH_MS) {
      const cancel = new AbortController();
      const late = delay(timeoutMs, 'timed-out' as const, { signal: cancel.signal }).catch(() => 'timed-out' as const);
      const flushed = Promise.resolve()
        .then(() => sdk.shutdown())
        .then(
          () => 'flushed' as const,
          () => 'failed' as const,
        );
      try {
        return await Promise.race([flushed, late]);
      } finally {
        cancel.abort();
      }
    },
  };
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

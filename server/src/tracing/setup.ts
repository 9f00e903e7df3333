/**
 * OpenTelemetry for the MCP server: off unless `otlpTracesEndpoint` is set, and then the SDK is loaded at all
 * (a dynamic import: a server without tracing carries none of it). Spans go to an OTLP/HTTP (JSON) collector.
 * No resource detection: the process detector would copy argv into every span batch.
 *
 * Traces are best effort: no collector — gone, refusing or hanging — may hold the process. One export gives up
 * after EXPORT_TIMEOUT_MS, and shutdown resolves within its budget whatever the exporter does (a collector that
 * accepts and never answers, or answers a byte at a time, outlasts any socket timeout of the exporter's).
 */
import { settleWithin, type Settled } from '../lifecycle/shutdown.ts';

export interface Tracing {
  /** Sends the spans still batched and stops the exporter within `timeoutMs`; never rejects. Unsent spans are dropped. */
  shutdown(timeoutMs?: number): Promise<Settled>;
}

/** One export request, the exporter's retries included. */
const EXPORT_TIMEOUT_MS = 2_000;
/** Shutdown's default budget for the last batch. */
const TRACING_FLUSH_MS = 2_000;

let enabled = false;

/** Whether spans are recorded: the request path checks this one boolean and does nothing more when off. */
export const tracingEnabled = (): boolean => enabled;

export async function startTracing(endpoint: string, serviceName: string): Promise<Tracing | undefined> {
  if (endpoint === '') return undefined;
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/exporter-trace-otlp-http')]);
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter({ url: endpoint, timeoutMillis: EXPORT_TIMEOUT_MS }),
    autoDetectResources: false,
    instrumentations: [],
    // Empty, not absent: absent, the SDK adds an OTLP metrics reader and a log exporter of its own (aimed at
    // localhost:4318, configured by nobody), whose shutdown flush may wait 30 s.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  enabled = true;
  return { shutdown: (timeoutMs = TRACING_FLUSH_MS) => settleWithin(() => sdk.shutdown(), timeoutMs) };
}

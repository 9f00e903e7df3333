/**
 * OpenTelemetry for the MCP server: off unless `otlpTracesEndpoint` is set, and then the SDK is loaded at all
 * (a dynamic import: a server without tracing carries none of it). Spans go to an OTLP/HTTP (JSON) collector.
 * No resource detection: the process detector would copy argv into every span batch.
 */
export interface Tracing {
  shutdown(): Promise<void>;
}

let enabled = false;

/** Whether spans are recorded: the request path checks this one boolean and does nothing more when off. */
export const tracingEnabled = (): boolean => enabled;

export async function startTracing(endpoint: string, serviceName: string): Promise<Tracing | undefined> {
  if (endpoint === '') return undefined;
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([import('@opentelemetry/sdk-node'), import('@opentelemetry/exporter-trace-otlp-http')]);
  const sdk = new NodeSDK({ serviceName, traceExporter: new OTLPTraceExporter({ url: endpoint }), autoDetectResources: false, instrumentations: [] });
  sdk.start();
  enabled = true;
  return { shutdown: () => sdk.shutdown() };
}

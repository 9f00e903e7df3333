/**
 * An in-process OTLP/HTTP (JSON) trace collector: what the tiers export, kept in memory for the tests that read
 * spans. The stack fixture (global-setup.ts) runs one for the whole run where the tiers export (the host's end of
 * the edge link), and answers the suites — test workers, which do not share its memory — on a second listener,
 * on the host's loopback, which no tier can reach. The server's span unit test runs one on loopback.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** The exporting tier's `service.name` (mcp-ro, mcp-rw, verifier). */
  service: string;
  attributes: Record<string, unknown>;
}

export interface OtlpCollector {
  /** Where to export: the OTLP/HTTP traces URL. */
  url: string;
  spans: OtlpSpan[];
  close(): Promise<void>;
}

/** A run's worth of spans (the CI soak exports ≈ 30,000); older ones go first beyond this. */
const MAX_SPANS = 200_000;
/** A batch is at most 512 spans of closed attributes: far below this. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
  }>;
}

function spansOf(doc: ExportRequest): OtlpSpan[] {
  return (doc.resourceSpans ?? []).flatMap((rs) => {
    const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: String(s.traceId),
        spanId: String(s.spanId),
        parentSpanId: (s.parentSpanId as string | undefined) || undefined,
        name: String(s.name),
        service,
        attributes: Object.fromEntries(
          ((s.attributes ?? []) as Array<{ key: string; value: Record<string, unknown> }>).map((a) => [a.key, Object.values(a.value)[0]]),
        ),
      })),
    );
  });
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined));
    req.on('error', () => resolve(undefined));
  });
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

const closeServer = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** Receives OTLP/HTTP JSON exports on `host:port` (0: a free port). */
export async function startOtlpCollector(host = '127.0.0.1', port = 0): Promise<OtlpCollector> {
  const spans: OtlpSpan[] = [];
  const server = createServer(async (req, res) => {
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    let received: OtlpSpan[];
    try {
      received = spansOf(JSON.parse(body ?? '') as ExportRequest);
    } catch {
      res.writeHead(400).end();
      return;
    }
    spans.push(...received);
    if (spans.length > MAX_SPANS) spans.splice(0, spans.length - MAX_SPANS);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const address = await listen(server, host, port);
  return { url: `http://${host}:${address.port}/v1/traces`, spans, close: () => closeServer(server) };
}

/** GET /spans?traceId=<32 hex> → that trace's spans as JSON, on the host's loopback only. */
export async function serveSpanQueries(collector: OtlpCollector): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const traceId = new URL(req.url ?? '/', 'http://x').searchParams.get('traceId') ?? '';
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(collector.spans.filter((s) => s.traceId === traceId)));
  });
  const address = await listen(server, '127.0.0.1', 0);
  return { url: `http://127.0.0.1:${address.port}/spans`, close: () => closeServer(server) };
}

/** A test worker's view of the fixture's collector: the spans of one trace so far. */
export async function spansOfTrace(queryUrl: string, traceId: string): Promise<OtlpSpan[]> {
  const r = await fetch(`${queryUrl}?traceId=${encodeURIComponent(traceId)}`);
  return (await r.json()) as OtlpSpan[];
}

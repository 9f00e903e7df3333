/**
 * The server's spans reach an OTLP/HTTP collector (an in-process one here) as children of the edge's
 * traceparent: the HTTP span, the tools/call span made from the audit record, and nothing caller-typed.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTracing } from '../../src/tracing/setup.ts';
import { recordToolSpan, tracedHandler } from '../../src/tracing/spans.ts';
import { startOtlpCollector } from '../../../tests/harness/otlp-collector.ts';

describe('tracing', () => {
  it('is off without an endpoint: nothing is loaded', async () => {
    expect(await startTracing('', 'mcp-ro')).toBeUndefined();
  });

  it('exports the request and tools/call spans as children of the edge traceparent, with closed attributes only', async () => {
    const c = await startOtlpCollector();
    const tracing = await startTracing(c.url, 'mcp-ro');
    const traceId = 'a1'.repeat(16),
      edgeSpan = 'b2'.repeat(8);
    const server = createServer(
      tracedHandler((_req, res) => {
        recordToolSpan({
          time: '',
          event: 'tool_call',
          requestId: traceId,
          sessionId: null,
          subject: 'alice',
          username: 'alice',
          agent: 'x',
          tool: 'find',
          operationType: 'read',
          argsDigest: 'sha256:00',
          namespace: 'shop.secret-collection',
          outcome: 'ok',
          errorCode: null,
          durationMs: 3,
        });
        res.end('ok');
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request(
          {
            port: (server.address() as AddressInfo).port,
            path: '/mcp?x=1',
            method: 'POST',
            headers: { traceparent: `00-${traceId}-${edgeSpan}-01`, 'x-request-id': traceId },
          },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
      expect(await tracing?.shutdown()).toBe('done'); // flushes the batch, the collector answering
      const http = c.spans.find((s) => s.name === 'POST /mcp');
      const tool = c.spans.find((s) => s.name === 'tools/call find');
      expect(http).toMatchObject({ traceId, parentSpanId: edgeSpan, attributes: { 'mcp.request_id': traceId, 'http.response.status_code': 200 } });
      expect(tool).toMatchObject({ traceId, parentSpanId: http?.spanId, attributes: { 'mcp.tool.name': 'find', 'mcp.outcome': 'ok' } });
      expect(JSON.stringify(c.spans)).not.toMatch(/alice|secret-collection|x=1/);
    } finally {
      server.close();
      await c.close();
    }
  });
});

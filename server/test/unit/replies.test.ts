import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sendWebResponse } from '../../src/transport/http/replies.ts';

let server: Server | undefined;
let client: Socket | undefined;
afterEach(async () => {
  client?.destroy();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = client = undefined;
});

/** Serves `response()` through sendWebResponse; resolves with the port and the outcome of the one request. */
async function serve(response: () => Response, limit: number) {
  let handled!: (outcome: Promise<string>) => void;
  const outcome = new Promise<Promise<string>>((resolve) => (handled = resolve)).then((p) => p);
  server = createServer((_req, res) => handled(sendWebResponse(res, response(), limit)));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, outcome: () => outcome };
}

/** A request whose answer the client reads in full (as text, headers included). */
function fetchRaw(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    client = connect(port, '127.0.0.1', () => client!.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    client
      .on('data', (c: Buffer) => chunks.push(c))
      .once('end', () => resolve(Buffer.concat(chunks).toString('latin1')))
      .once('error', reject);
  });
}

describe('HTTP replies', () => {
  it('sends a JSON answer as one body with a Content-Length, never chunked', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { ok: true } });
    const s = await serve(() => new Response(body, { headers: { 'content-type': 'application/json' } }), 1024);
    const text = await fetchRaw(s.port);
    expect(text).toContain(`content-length: ${Buffer.byteLength(body)}\r\n`);
    expect(text).not.toMatch(/transfer-encoding/i);
    expect(text.endsWith(`\r\n\r\n${body}`)).toBe(true);
    expect(await s.outcome()).toBe('sent');
  });

  it('writes nothing of a JSON answer over the byte limit and tells the caller so', async () => {
    const written: string[] = [];
    // Any header or byte written would be recorded: over the limit, the caller answers instead.
    const res = {
      writeHead: () => written.push('head'),
      write: () => written.push('body'),
      end: () => written.push('end'),
      setHeader: () => written.push('header'),
    };
    expect(await sendWebResponse(res as never, Response.json({ big: 'x'.repeat(2048) }), 1024)).toBe('too-large');
    expect(written).toEqual([]);
  });

  it('stops pulling an SSE stream while the client does not read (back-pressure), instead of buffering it', async () => {
    const CHUNK = new Uint8Array(64 * 1024).fill(0x61);
    let pulled = 0;
    // An endless event stream: only back-pressure keeps this process from reading it into memory.
    const stream = () =>
      new ReadableStream<Uint8Array>(
        {
          pull: (c) => {
            pulled += CHUNK.byteLength;
            c.enqueue(CHUNK);
          },
        },
        { highWaterMark: 0 },
      );
    const s = await serve(() => new Response(stream(), { headers: { 'content-type': 'text/event-stream' } }), 1 << 30);
    // A client that sends its request and then never reads: the kernel's buffers fill, then the socket's.
    client = connect(s.port, '127.0.0.1', () => client!.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    client.pause();
    let before = -1;
    // Wait until pulling has stopped (it must, once every buffer on the way is full).
    while (pulled !== before) {
      before = pulled;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(pulled).toBeLessThan(64 * 1024 * 1024);
  });
});

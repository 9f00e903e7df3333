import type { IncomingMessage, ServerResponse } from 'node:http';

/** JSON-RPC 2.0 error object over HTTP; `data.code` carries our closed error code. */
export function sendJsonRpcError(res: ServerResponse, status: number, rpcCode: number, message: string, code?: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: rpcCode, message, ...(code ? { data: { code } } : {}) }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export type BodyResult = { kind: 'ok'; text: string } | { kind: 'too-large' };

/** Reads at most `limit` bytes; stops reading (and answers 413 upstream) as soon as more arrive. */
export async function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return { kind: 'too-large' };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return { kind: 'too-large' };
    chunks.push(chunk as Buffer);
  }
  return { kind: 'ok', text: Buffer.concat(chunks).toString('utf8') };
}

/**
 * Sends a web-standard Response to the Node response. A finite body (JSON, or none) is sent as ONE write with
 * a Content-Length: streaming it chunk by chunk cost a `Transfer-Encoding: chunked` frame, a second syscall
 * for the terminating chunk (a separate TCP segment the client must wait for) and a promise round-trip per
 * chunk — measurable per tools/call (issue #7). Only an SSE stream (RFC 8895 style, open-ended) is streamed,
 * stopping if the client leaves.
 */
export async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => (headers[key] = value));
  if (!response.body) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  if (!isEventStream(response)) {
    const body = Buffer.from(await response.arrayBuffer());
    headers['content-length'] = String(body.length);
    res.writeHead(response.status, headers);
    res.end(body);
    return;
  }
  res.writeHead(response.status, headers);
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // client went away mid-stream; nothing to answer
  }
  res.end();
}

function isEventStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
}

import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** JSON-RPC 2.0 error object over HTTP; `data.code` carries our closed error code. */
export function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  rpcCode: number,
  message: string,
  code?: string,
  extra: { retryAfterSeconds?: number; id?: string | number | null; data?: Record<string, unknown> } = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const data = code || extra.data ? { data: { ...(code ? { code } : {}), ...extra.data } } : {};
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: rpcCode, message, ...data }, id: extra.id ?? null });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(extra.retryAfterSeconds !== undefined ? { 'retry-after': String(extra.retryAfterSeconds) } : {}),
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export type BodyResult = { kind: 'ok'; text: string } | { kind: 'too-large' };

/**
 * Reads at most `limit` bytes; stops reading (and answers 413 upstream, closing the connection) as soon as more
 * arrive. Listeners, not an async iterator: the iterator cost a promise per chunk and an iterator object per
 * request, for bodies that are one chunk (issue #15).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ kind: 'too-large' });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      req.pause();
      resolve({ kind: 'too-large' });
    };
    const onEnd = () => {
      done();
      resolve({ kind: 'ok', text: Buffer.concat(chunks).toString('utf8') });
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    // Closed before its end: the client went away mid-body (an error event may not come first).
    const onClose = () => onError(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** `sent`, or `too-large`: the body would have exceeded the byte limit and was not (or not fully) sent. */
export type SendOutcome = 'sent' | 'too-large';

/**
 * Sends a web-standard Response to the Node response, at most `limit` body bytes. A finite body (JSON, or
 * none) is sent as ONE write with a Content-Length: streaming it chunk by chunk cost a `Transfer-Encoding:
 * chunked` frame, a second syscall for the terminating chunk (a separate TCP segment the client must wait
 * for) and a promise round-trip per chunk — measurable per tools/call (issue #7). Such a body is already
 * whole in memory (the SDK serialises it with `Response.json`), so it is taken in one read; over the limit
 * nothing is written and the caller answers instead. Only an SSE stream (open-ended) is streamed: it waits
 * for `drain` when the socket's buffer is full (a slow reader holds the stream, not this process's memory),
 * stops if the client leaves, and over the limit is ended where it stands (its headers are gone already).
 */
export async function sendWebResponse(res: ServerResponse, response: Response, limit: number): Promise<SendOutcome> {
  const headers: Record<string, string> = {};
  for (const [key, value] of response.headers) headers[key] = value;
  if (!response.body) {
    res.writeHead(response.status, headers);
    res.end();
    return 'sent';
  }
  if (!isEventStream(headers['content-type'])) {
    const body = await response.bytes();
    if (body.byteLength > limit) return 'too-large';
    headers['content-length'] = String(body.byteLength);
    res.writeHead(response.status, headers);
    res.end(body);
    return 'sent';
  }
  res.writeHead(response.status, headers);
  // A standalone GET stream may stay silent until the server has something to say: send the headers now,
  // so the client knows the stream is open (node:http otherwise holds them until the first write).
  res.flushHeaders();
  const reader = response.body.getReader();
  const gone = new Promise<void>((resolve) => res.once('close', resolve));
  void gone.then(() => reader.cancel().catch(() => undefined));
  let sent = 0;
  let outcome: SendOutcome = 'sent';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      sent += value.byteLength;
      if (sent > limit) {
        outcome = 'too-large';
        await reader.cancel().catch(() => undefined);
        break;
      }
      // Back-pressure: a full socket buffer is waited out (or the client's leaving), never piled up in memory.
      if (!res.write(value)) await Promise.race([once(res, 'drain'), gone]);
    }
  } catch {
    // client went away mid-stream; nothing to answer
  }
  res.end();
  return outcome;
}

function isEventStream(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
}

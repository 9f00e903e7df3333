/**
 * Raw HTTP(S) as an attacker's client sends it: exactly the path and headers given (fetch would normalise
 * paths and refuse some headers), TLS verified against the given CA or the system's, and the certificate
 * always checked against the target's real host name — a forged Host header never changes which server
 * we verify.
 */
import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type SecureVersion } from 'node:tls';

/** SNI carries names only (RFC 6066 §3): none for an address. */
const sniFor = (url: URL): string | undefined => (isIP(url.hostname.replace(/^\[|\]$/g, '')) ? undefined : url.hostname);

export interface Endpoint {
  url: URL;
  /** PEM of the CA to trust instead of the system store. */
  ca?: string;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RawRequest {
  method?: string;
  /** Path and query as sent; defaults to the endpoint URL's. */
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  tls?: { minVersion?: SecureVersion; maxVersion?: SecureVersion };
  /** Characters of response body kept (a tools/list can be large; an audit reads no downloads). */
  maxBody?: number;
  timeoutMs?: number;
  /** A keep-alive agent for a run of requests (the rate probe); by default one connection per request. */
  agent?: Agent;
}

export function rawRequest(e: Endpoint, o: RawRequest = {}): Promise<RawResponse> {
  const { url } = e;
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  const maxBody = o.maxBody ?? 4 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || (secure ? 443 : 80),
        method: o.method ?? 'GET',
        path: o.path ?? `${url.pathname}${url.search}`,
        headers: { host: url.host, ...o.headers },
        agent: o.agent ?? false,
        ...(secure
          ? {
              ca: e.ca,
              servername: sniFor(url),
              minVersion: o.tls?.minVersion,
              maxVersion: o.tls?.maxVersion,
              checkServerIdentity: (_h: string, cert: PeerCertificate) => checkServerIdentity(url.hostname, cert),
            }
          : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < maxBody) body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body.slice(0, maxBody) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(o.timeoutMs ?? 15_000, () => req.destroy(new Error('request timed out')));
    req.end(o.body);
  });
}

export type HandshakeResult = { ok: true; protocol: string; authorized: boolean; authorizationError?: string } | { ok: false; error: string };

/**
 * One TLS handshake pinned to a protocol version; `verify: false` lets a handshake with a bad certificate
 * complete so that the protocol question and the certificate question are answered separately.
 */
export function tlsHandshake(e: Endpoint, o: { minVersion?: SecureVersion; maxVersion?: SecureVersion; verify?: boolean } = {}): Promise<HandshakeResult> {
  const { url } = e;
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      servername: sniFor(url),
      ca: e.ca,
      minVersion: o.minVersion ?? 'TLSv1',
      maxVersion: o.maxVersion,
      rejectUnauthorized: o.verify ?? true,
      checkServerIdentity: (_h, cert) => checkServerIdentity(url.hostname, cert),
      // OpenSSL's default security level refuses TLS 1.0/1.1 on our side before the server could:
      // level 0 lets the server's own answer decide.
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error('handshake timed out')));
    socket.once('secureConnect', () => {
      resolve({ ok: true, protocol: socket.getProtocol() ?? 'unknown', authorized: socket.authorized, authorizationError: socket.authorizationError?.message });
      socket.end();
    });
    socket.once('error', (err) => resolve({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
  });
}

export function header(r: RawResponse, name: string): string | undefined {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

export interface HeldRequest {
  /** The status the server answered before the body came, or undefined while it is still waiting for it. */
  status(): number | undefined;
  /** The first bytes of that answer's body, for evidence. */
  body(): string;
  close(): void;
}

/**
 * A request whose head is sent and whose announced body never comes: the server must hold it (and its
 * connection) until its body timeout — what a connection budget per client exists for. Raw socket: the
 * caller sees an answer sent before the body was read, which an HTTP client library would hide.
 */
export function holdRequest(e: Endpoint, o: { method?: string; headers: Record<string, string>; contentLength: number }): Promise<HeldRequest> {
  const { url } = e;
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (secure ? 443 : 80));
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket: Socket = secure
      ? tlsConnect({ host, port, servername: sniFor(url), ca: e.ca, checkServerIdentity: (_h, cert) => checkServerIdentity(url.hostname, cert) })
      : netConnect({ host, port });
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => {
      if (answer.length < 4096) answer += c;
    });
    socket.on('error', () => undefined);
    socket.setTimeout(30_000, () => socket.destroy());
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      const head = [
        `${o.method ?? 'POST'} ${url.pathname}${url.search} HTTP/1.1`,
        `host: ${url.host}`,
        `content-length: ${o.contentLength}`,
        ...Object.entries(o.headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      resolve({
        status: () => {
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
          return m ? Number(m[1]) : undefined;
        },
        body: () => answer.split('\r\n\r\n').slice(1).join('\r\n\r\n'),
        close: () => socket.destroy(),
      });
    });
    socket.once('error', reject);
  });
}

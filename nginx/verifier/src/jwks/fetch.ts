/**
 * GET a JWK Set (RFC 7517 §5) over http(s), trusting an optional private CA, with a timeout and a size cap:
 * the key source is internal, but a slow or huge answer must not stall or exhaust the verifier.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { JWK } from 'jose';

const MAX_BYTES = 1024 * 1024;

export interface FetchOptions {
  ca?: string | Buffer | undefined;
  timeoutMs?: number;
}

export function fetchJwks(url: string, o: FetchOptions = {}): Promise<JWK[]> {
  const u = new URL(url);
  const req = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(u, { method: 'GET', headers: { accept: 'application/json' }, ca: o.ca, timeout: o.timeoutMs ?? 5000 }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`JWKS endpoint answered ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BYTES) r.destroy(new Error('JWKS answer too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keys?: unknown };
          if (!Array.isArray(body.keys)) throw new Error('JWKS answer has no "keys" array');
          resolve(body.keys.filter((k): k is JWK => typeof k === 'object' && k !== null));
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('JWKS request timed out')));
    r.on('error', reject);
    r.end();
  });
}

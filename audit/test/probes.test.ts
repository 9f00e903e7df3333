/** The pure parts of the probes: challenge parsing, RFC 9728 locations, names in tool results, the table. */
import { describe, expect, it } from 'vitest';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { keyConfusionJwt, resourceMetadataOf, unsignedJwt, wellKnownMetadataUrl } from '../src/probes/oauth.ts';
import { valuesOf } from '../src/probes/namespace.ts';
import { jsonRpcOf } from '../src/probes/mcp.ts';
import { toTable } from '../src/report/table.ts';
import { exitCodeOf } from '../src/audit.ts';
import type { Report } from '../src/practice.ts';

describe('discovery parsing', () => {
  it('reads resource_metadata from a Bearer challenge with other parameters around it', () => {
    expect(resourceMetadataOf('Bearer error="invalid_token", resource_metadata="https://e/.well-known/oauth-protected-resource/mcp", scope="mcp:read"')).toBe(
      'https://e/.well-known/oauth-protected-resource/mcp',
    );
    expect(resourceMetadataOf('Bearer realm="x"')).toBeUndefined();
  });

  it('inserts the well-known prefix before the resource path (RFC 9728 §3.1)', () => {
    expect(wellKnownMetadataUrl(new URL('https://e:8443/mcp/admin'))).toBe('https://e:8443/.well-known/oauth-protected-resource/mcp/admin');
    expect(wellKnownMetadataUrl(new URL('https://e/'))).toBe('https://e/.well-known/oauth-protected-resource');
  });

  it('builds an unsigned token with alg none and an empty signature', () => {
    const [h, , sig] = unsignedJwt({ sub: 'x' }).split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'none', typ: 'JWT' });
    expect(sig).toBe('');
  });
});

describe('answers', () => {
  it('reads a JSON-RPC message from an SSE stream', () => {
    const m = jsonRpcOf({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: 'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"ok":true}}\n\n',
    });
    expect(m?.result).toEqual({ ok: true });
  });

  it('finds names in structured content and in JSON text, skipping other keys', () => {
    expect(valuesOf({ structuredContent: { databases: [{ name: 'shop', sizeOnDisk: 1 }, { name: 'admin' }] } } as never, /^name$/)).toEqual(['shop', 'admin']);
    expect(valuesOf({ content: [{ type: 'text', text: '{"connections":[{"id":"c1"}]}' }] }, /^(connectionId|id)$/)).toEqual(['c1']);
    expect(valuesOf({ content: [{ type: 'text', text: 'Found 2 collections in shop.\n["customers","orders"]' }] }, /^name$/)).toEqual(['customers', 'orders']);
    expect(valuesOf({ content: [{ type: 'text', text: 'Found 2 databases.\n[{"name":"shop","sizeOnDisk":1},{"name":"hr"}]' }] }, /^name$/)).toEqual([
      'shop',
      'hr',
    ]);
  });
});

describe('report', () => {
  const report: Report = {
    target: 'https://e/mcp',
    practices: [
      { id: 'a', title: 'A', source: 'RFC 1', status: 'pass', evidence: 'line one\nline two' },
      { id: 'b', title: 'B', source: 'RFC 2', status: 'not-applicable', evidence: 'n/a' },
    ],
  };

  it('exits 0 when nothing fails (not-applicable included) and 1 when anything fails', () => {
    expect(exitCodeOf(report)).toBe(0);
    expect(exitCodeOf({ ...report, practices: [...report.practices, { id: 'c', title: 'C', source: 'x', status: 'fail', evidence: 'e' }] })).toBe(1);
  });

  it('keeps evidence on one line and colours only when asked', () => {
    const plain = toTable(report, { colour: false });
    expect(plain).toContain('line one line two');
    expect(plain).not.toContain('\x1b[');
    expect(toTable(report, { colour: true })).toContain('\x1b[32mPASS\x1b[0m');
  });
});

describe('forged tokens', () => {
  it('keys an HS256 token with the PEM of the public JWK, so only an algorithm-confused verifier accepts it', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1' };
    const [h, p, sig] = keyConfusionJwt(jwk, { sub: 'x' }).split('.');
    expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    expect(sig).toBe(createHmac('sha256', pem).update(`${h}.${p}`).digest('base64url'));
  });
});

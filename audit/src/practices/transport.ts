/** Transport: TLS versions, the certificate, plain HTTP, HSTS (MCP authorization §Communication Security). */
import { fail, notApplicable, pass, SOURCES, type Practice } from './shared.ts';
import { header, rawRequest, tlsHandshake } from '../probes/http.ts';
import { initializeBody, MCP_HEADERS } from '../probes/mcp.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/;

/** Plain HTTP is the finding itself, except on loopback where nothing crosses a network. */
const plainHttp = (url: URL) =>
  url.protocol === 'https:'
    ? undefined
    : LOOPBACK.test(url.hostname)
      ? notApplicable(`plain HTTP on loopback (${url.host}): nothing crosses a network`)
      : fail(`MCP served over plain HTTP on ${url.host}: tokens and data travel in clear`);

export const tlsVersion: Practice = {
  id: 'transport-tls-version',
  title: 'TLS 1.2 or newer only (1.0 and 1.1 refused)',
  source: `${SOURCES.mcpAuthz} › Communication Security; RFC 8996; RFC 9325 §3.1.1`,
  async run(ctx) {
    const plain = plainHttp(ctx.target.url);
    if (plain) return plain;
    const old = await Promise.all((['TLSv1', 'TLSv1.1'] as const).map((v) => tlsHandshake(ctx.target, { minVersion: v, maxVersion: v, verify: false })));
    const modern = await tlsHandshake(ctx.target, { minVersion: 'TLSv1.2', verify: false });
    const accepted = old.flatMap((r) => (r.ok ? [r.protocol] : []));
    if (accepted.length) return fail(`handshake accepted with ${accepted.join(', ')}`);
    if (!modern.ok) return fail(`no TLS ≥ 1.2 handshake: ${modern.error}`);
    return pass(`TLSv1 and TLSv1.1 refused (${old.map((r) => (r.ok ? r.protocol : r.error)).join(', ')}); ${modern.protocol} accepted`);
  },
};

export const certificate: Practice = {
  id: 'transport-certificate',
  title: 'Certificate valid for the host and chained to a trusted CA',
  source: `${SOURCES.mcpAuthz} › Communication Security; RFC 6125`,
  async run(ctx) {
    const plain = plainHttp(ctx.target.url);
    if (plain) return plain;
    const r = await tlsHandshake(ctx.target, { minVersion: 'TLSv1.2' });
    return r.ok
      ? pass(`verified for ${ctx.target.url.hostname}${ctx.target.ca ? ' against --ca' : ' against the system trust store'}`)
      : fail(`certificate refused: ${r.error}`);
  },
};

export const plainHttpRefused: Practice = {
  id: 'transport-plain-http',
  title: 'MCP not served over plain HTTP',
  source: `${SOURCES.mcpAuthz} › Communication Security (all authorization endpoints MUST be served over HTTPS); OAuth 2.1 §1.5`,
  async run(ctx) {
    const plain = plainHttp(ctx.target.url);
    if (plain) return plain;
    // The same host over http, on the https port and on port 80: neither may answer MCP.
    const seen: string[] = [];
    for (const port of [ctx.target.url.port || '443', '80']) {
      const url = new URL(ctx.target.url);
      url.protocol = 'http:';
      url.port = port === '80' ? '' : port;
      const r = await rawRequest({ url }, { method: 'POST', headers: MCP_HEADERS, body: initializeBody(), timeoutMs: 5_000 }).catch(
        (e: NodeJS.ErrnoException) => e.code ?? e.message,
      );
      if (typeof r === 'string') {
        seen.push(`${url.host}: ${r}`);
        continue;
      }
      if (r.status === 200 || r.status === 401) return fail(`http://${url.host} answered initialize with ${r.status}`);
      seen.push(`http://${url.host}: ${r.status}${header(r, 'location') ? ` → ${header(r, 'location')}` : ''}`);
    }
    return pass(seen.join('; '));
  },
};

export const hsts: Practice = {
  id: 'transport-hsts',
  title: 'HSTS pins clients to HTTPS',
  source: 'RFC 6797 §6.1; MCP specification 2025-11-25, Security Best Practices',
  async run(ctx) {
    const plain = plainHttp(ctx.target.url);
    if (plain) return plain;
    const r = await ctx.anonymousInitialize();
    const value = header(r, 'strict-transport-security');
    const maxAge = Number(/max-age=(\d+)/i.exec(value ?? '')?.[1] ?? 0);
    // A year is the floor browsers' preload lists use; less leaves a window for a downgrade.
    return maxAge >= 31_536_000
      ? pass(`Strict-Transport-Security: ${value}`)
      : fail(value ? `max-age ${maxAge} s is under a year` : `no Strict-Transport-Security on the ${r.status} answer`);
  },
};

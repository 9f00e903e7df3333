/**
 * Network isolation of the native stack: from the client namespace (the outside world) only the edge
 * answers; every back-tier socket is unreachable, even for a client that routes through the edge, because
 * no namespace forwards. Each "closed" is paired with an "open" from the tier's legitimate peer, so a
 * stopped service can never pass for an isolated one.
 */
import { describe, expect, inject, it } from 'vitest';
import { curlFromClient, probeFromClient, tcpProbe } from '../harness/http.ts';
import { recordProof } from '../harness/proof.ts';
import { run } from '../../scripts/stack/process.ts';

const m = inject('manifest');
const NO_NETNS = 'loopback isolation (no root or no ip netns): every tier shares 127.0.0.1, so there is no outside to test from';
const edgeHost = new URL(m.edgeUrl).hostname;
const edgePort = Number(new URL(m.edgeUrl).port || 443);

/** Where a back tier's legitimate peer (the edge) reaches it: its edge-link address, or loopback in the edge. */
const fromEdge = (t: { host: string; port: number }) => (t.host === edgeHost ? { host: '127.0.0.1', port: t.port } : t);

describe('the client namespace (the outside world)', () => {
  it('reaches the edge, which answers an anonymous MCP request with 401 and the RFC 9728 challenge', async (ctx) => {
    if (!m.clientNetns) return ctx.skip(NO_NETNS);
    const headers = await run(
      'curl',
      ['-s', '-o', '/dev/null', '-D', '-', '--connect-timeout', '3', '--max-time', '10', '--cacert', m.caFile, `${m.clientEdgeUrl}/mcp`],
      { netns: m.clientNetns },
    );
    expect(headers).toMatch(/^HTTP\/\S+ 401/);
    expect(headers).toMatch(/www-authenticate: Bearer resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/i);
    recordProof(ctx, {
      attack: 'anonymous GET /mcp from the outside network',
      expected: '401 + resource_metadata challenge',
      observed: headers.split('\r\n')[0] ?? '',
    });
  });

  it.for(m.internal)('cannot open a TCP connection to $name, which its peer inside the stack can', async (t, ctx) => {
    if (!m.clientNetns) return ctx.skip(NO_NETNS);
    const peer = fromEdge(t);
    expect(await tcpProbe(m.direct.netns, peer.host, peer.port), `${t.name} must be up for the refusal to mean anything`).toBe('open');
    const outside = await probeFromClient(m, t.host, t.port);
    expect(outside).toBe('closed');
    recordProof(ctx, {
      attack: `TCP connect from outside to ${t.name} ${t.host}:${t.port}`,
      expected: 'no connection',
      observed: outside === 'closed' ? 'no connection (open from the edge)' : 'CONNECTED',
    });
  });

  it('cannot reach Keycloak, its management port or the database even with its own route through the edge, because no namespace forwards', async (ctx) => {
    if (!m.clientNetns) return ctx.skip(NO_NETNS);
    const edgeLinked = m.internal.filter((t) => t.host !== edgeHost);
    expect(edgeLinked.length).toBeGreaterThan(0);
    // The strongest position an outsider can take: the edge as its gateway to every back-tier address.
    const routes = [...new Set(edgeLinked.map((t) => `${t.host}/32`))];
    for (const r of routes) await run('ip', ['route', 'replace', r, 'via', m.edgeAddressForClient], { netns: m.clientNetns });
    try {
      const reached: string[] = [];
      for (const t of edgeLinked) if ((await probeFromClient(m, t.host, t.port)) === 'open') reached.push(`${t.name} ${t.host}:${t.port}`);
      expect(reached).toEqual([]);
      recordProof(ctx, {
        attack: `route ${routes.join(', ')} via the edge and connect`,
        expected: 'nothing reached',
        observed: reached.length ? reached.join(', ') : 'nothing reached',
      });
    } finally {
      for (const r of routes) await run('ip', ['route', 'del', r], { netns: m.clientNetns }).catch(() => undefined);
    }
  });

  it('still reaches the edge port it is meant to, so the refusals above are not a broken probe', async (ctx) => {
    if (!m.clientNetns) return ctx.skip(NO_NETNS);
    expect(await probeFromClient(m, edgeHost, edgePort)).toBe('open');
    expect(await curlFromClient(m, `${m.clientEdgeUrl}/.well-known/oauth-protected-resource/mcp`)).toBe(200);
  });
});

/** Requests the server must refuse whatever the credential: foreign Host/Origin, oversized bodies, borrowed sessions. */
import { fail, notApplicable, pass, snippet, SOURCES, type AuditContext, type Practice } from './shared.ts';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { holdRequest, rawRequest, type HeldRequest, type RawResponse } from '../probes/http.ts';
import { bearer, MCP_HEADERS } from '../probes/mcp.ts';
import { initializeWith } from './tokens.ts';

/**
 * A foreign Host or Origin, sent with the token when there is one: a 401 to an anonymous probe proves
 * authentication, not the Host/Origin check, so it only counts when the server serves anonymous callers.
 */
async function foreignHeader(ctx: AuditContext, headers: Record<string, string>, what: string) {
  const token = await ctx.accessToken().catch(() => undefined);
  const r = await initializeWith(ctx.target, { ...bearer(token), ...headers });
  if (r.status === 200) return fail(`${what} accepted: initialize answered 200${token ? ' (with a valid token)' : ' (anonymously)'}`);
  if (r.status === 401 && !token) return notApplicable(`${what} answered 401: authentication came first; give credentials to test the ${what} check itself`);
  return r.status >= 400 && r.status < 500 ? pass(`${what} refused with ${r.status} ${snippet(r.body, 80)}`) : fail(`${what} answered ${r.status}`);
}

export const foreignHost: Practice = {
  id: 'dns-rebinding-host',
  title: 'A foreign Host header refused (DNS rebinding)',
  source: `${SOURCES.mcpTransports} (servers MUST validate Origin; SHOULD bind to localhost); ${SOURCES.mcpBestPractices} › Local MCP Server Compromise`,
  run: (ctx) => foreignHeader(ctx, { host: 'evil.example' }, 'Host: evil.example'),
};

export const foreignOrigin: Practice = {
  id: 'dns-rebinding-origin',
  title: 'A foreign Origin header refused (DNS rebinding, cross-site requests)',
  source: `${SOURCES.mcpTransports} (servers MUST validate the Origin header on all incoming connections)`,
  run: (ctx) => foreignHeader(ctx, { origin: 'https://evil.example' }, 'Origin: https://evil.example'),
};

export const bodyLimit: Practice = {
  id: 'body-limit',
  title: 'An oversized request body (4 MiB) refused',
  source: `${SOURCES.mcpBestPractices}; OWASP API4:2023 Unrestricted Resource Consumption`,
  async run(ctx) {
    // One request: a JSON-RPC ping padded to 4 MiB. Not a flood, but larger than any MCP message needs.
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { pad: 'x'.repeat(4 * 1024 * 1024) } } });
    const token = await ctx.accessToken().catch(() => undefined);
    const r = await rawRequest(ctx.target, { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(token) }, body, timeoutMs: 30_000 }).catch(
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
    if (typeof r === 'string') return pass(`connection closed before the body was taken (${r})`);
    if (r.status === 413) return pass(`413 ${snippet(r.body, 80)}`);
    if (r.status === 401 && !token) return notApplicable('answered 401: give credentials so the body reaches the server');
    return r.status >= 400 && r.status < 500 && r.status !== 401
      ? pass(`refused with ${r.status} ${snippet(r.body, 60)}`)
      : fail(`a 4 MiB body answered ${r.status}`);
  },
};

export const sessionBinding: Practice = {
  id: 'session-binding',
  title: 'A session id alone grants nothing; made-up session ids refused',
  source: `${SOURCES.mcpBestPractices} › Session Hijacking (MUST NOT use sessions for authentication; MUST verify all inbound requests)`,
  async run(ctx) {
    const s = await ctx.session();
    if (!s) return notApplicable('no MCP session could be opened with the given credentials');
    if (!s.sessionId) return notApplicable('the server is stateless: it issues no session id');
    const token = await ctx.accessToken().catch(() => undefined);
    const ping = JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/list' });
    const headers = { ...MCP_HEADERS, 'mcp-protocol-version': s.protocolVersion };
    const without = await rawRequest(ctx.target, { method: 'POST', headers: { ...headers, 'mcp-session-id': s.sessionId }, body: ping });
    if (without.status === 200)
      return fail(
        `the session id without any token answered tools/list with 200${token ? '' : ' (the server takes no token: the session id is the only credential)'}`,
      );
    const madeUp = await rawRequest(ctx.target, { method: 'POST', headers: { ...headers, ...bearer(token), 'mcp-session-id': 'mcp-audit-0000' }, body: ping });
    if (madeUp.status === 200) return fail('a made-up session id answered 200');
    if (s.sessionId.length < 16) return fail(`session id of ${s.sessionId.length} characters is guessable`);
    return pass(`session id without token → ${without.status}; made-up session id → ${madeUp.status}`);
  },
};

/**
 * The flood: as fast as the auditor can send, until the first 429/503, `requests` sent or `ms` passed —
 * more than any per-address budget (rate × seconds + burst) a deployment would grant one client.
 */
export const FLOOD = { requests: 30_000, ms: 20_000, concurrency: 32, drainMs: 30_000 } as const;

export const rateLimit: Practice = {
  id: 'rate-limit',
  title: 'A request flood from one client is throttled (429/503)',
  source: `${SOURCES.mcpBestPractices}; OWASP API4:2023 Unrestricted Resource Consumption; RFC 6585 §4`,
  async run(ctx) {
    if (!ctx.options.aggressive) return notApplicable(`sends up to ${FLOOD.requests} requests: only with --aggressive`);
    ctx.options.announce(
      `--aggressive: up to ${FLOOD.requests} anonymous GET ${ctx.target.url} in ${FLOOD.ms / 1000} s over ${FLOOD.concurrency} keep-alive connections, stopping at the first 429/503`,
    );
    // Keep-alive: the probe measures the server's limit, not how many TLS handshakes the auditor can do.
    const agent =
      ctx.target.url.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, maxSockets: FLOOD.concurrency, ca: ctx.target.ca })
        : new HttpAgent({ keepAlive: true, maxSockets: FLOOD.concurrency });
    const statuses = new Map<number, number>();
    let sent = 0;
    let throttled: RawResponse | undefined;
    const start = Date.now();
    const deadline = start + FLOOD.ms;
    const get = () => rawRequest(ctx.target, { headers: { accept: 'application/json, text/event-stream' }, agent, maxBody: 512 });
    try {
      await Promise.all(
        Array.from({ length: FLOOD.concurrency }, async () => {
          while (!throttled && sent < FLOOD.requests && Date.now() < deadline) {
            sent++;
            const r = await get().catch(() => undefined);
            if (!r) continue;
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            if (r.status === 429 || r.status === 503) throttled ??= r;
          }
        }),
      );
      const seen = [...statuses].map(([status, n]) => `${n}×${status}`).join(', ');
      const secs = Math.max((Date.now() - start) / 1000, 0.001);
      // The achieved rate is part of the verdict: a limit above what this auditor could send stays unseen.
      if (!throttled) return fail(`${sent} requests in ${secs.toFixed(1)} s (${Math.round(sent / secs)}/s), none throttled (${seen})`);
      // Leave the target as found: wait until the budget this address spent refills, so the caller's next
      // requests (or the next practice) are not refused because of the audit.
      const until = Date.now() + FLOOD.drainMs;
      let drained = false;
      while (!drained && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 500));
        const r = await get().catch(() => undefined);
        drained = r !== undefined && r.status !== 429 && r.status !== 503;
      }
      return pass(
        `throttled after ${sent} requests: ${throttled.status} ${snippet(throttled.body, 60)} (${seen})${drained ? '' : `; still throttled ${FLOOD.drainMs / 1000} s later`}`,
      );
    } finally {
      agent.destroy();
    }
  },
};

/** More held requests than a per-client connection budget grants (nginx's limit_conn, a proxy's max per IP). */
export const HELD = { connections: 256, settleMs: 3_000 } as const;

export const connectionLimit: Practice = {
  id: 'connection-limit',
  title: 'One client holding many slow requests open is refused past a connection budget (429/503)',
  source: `${SOURCES.mcpBestPractices}; OWASP API4:2023 Unrestricted Resource Consumption; CWE-400 (slow request bodies)`,
  async run(ctx) {
    if (!ctx.options.aggressive) return notApplicable(`holds ${HELD.connections} connections open: only with --aggressive`);
    // Anonymous requests are answered (401) before any body is awaited: only an accepted credential makes
    // the server wait for the body, so only then does each request hold its connection.
    const token = await ctx.accessToken().catch(() => undefined);
    if (!token && !(await ctx.servesAnonymously())) return notApplicable('needs credentials: anonymous requests are answered before their body is read');
    ctx.options.announce(`--aggressive: ${HELD.connections} POST ${ctx.target.url} whose bodies never come, held ${HELD.settleMs / 1000} s, then closed`);
    const held: HeldRequest[] = [];
    try {
      for (let i = 0; i < HELD.connections; i++) {
        const h = await holdRequest(ctx.target, { headers: { ...MCP_HEADERS, ...bearer(token) }, contentLength: 64 }).catch(() => undefined);
        if (h) held.push(h);
      }
      await new Promise((r) => setTimeout(r, HELD.settleMs));
      const refused = held.filter((h) => h.status() === 429 || h.status() === 503);
      const other = held.filter((h) => h.status() !== undefined && !refused.includes(h)).map((h) => h.status());
      const waiting = held.length - refused.length - other.length;
      if (!refused.length)
        return fail(
          `${held.length} requests without their bodies all held open (${waiting} waiting${other.length ? `, answered ${[...new Set(other)].join('/')}` : ''})`,
        );
      return pass(
        `${waiting} held, ${refused.length} refused with ${refused[0]!.status()} ${snippet(refused[0]!.body(), 60)}${other.length ? `, ${other.length} answered ${[...new Set(other)].join('/')}` : ''}`,
      );
    } finally {
      for (const h of held) h.close();
    }
  },
};

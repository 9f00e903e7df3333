/** Requests the server must refuse whatever the credential: foreign Host/Origin, oversized bodies, borrowed sessions. */
import { fail, notApplicable, pass, snippet, SOURCES, type AuditContext, type Practice } from './shared.ts';
import { rawRequest } from '../probes/http.ts';
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
    const r = await rawRequest(ctx.target, { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(token) }, body, timeoutMs: 30_000 }).catch((e: NodeJS.ErrnoException) => e.code ?? e.message);
    if (typeof r === 'string') return pass(`connection closed before the body was taken (${r})`);
    if (r.status === 413) return pass(`413 ${snippet(r.body, 80)}`);
    if (r.status === 401 && !token) return notApplicable('answered 401: give credentials so the body reaches the server');
    return r.status >= 400 && r.status < 500 && r.status !== 401 ? pass(`refused with ${r.status} ${snippet(r.body, 60)}`) : fail(`a 4 MiB body answered ${r.status}`);
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
    if (without.status === 200) return fail(`the session id without any token answered tools/list with 200${token ? '' : ' (the server takes no token: the session id is the only credential)'}`);
    const madeUp = await rawRequest(ctx.target, { method: 'POST', headers: { ...headers, ...bearer(token), 'mcp-session-id': 'mcp-audit-0000' }, body: ping });
    if (madeUp.status === 200) return fail('a made-up session id answered 200');
    if (s.sessionId.length < 16) return fail(`session id of ${s.sessionId.length} characters is guessable`);
    return pass(`session id without token → ${without.status}; made-up session id → ${madeUp.status}`);
  },
};

/**
 * A live smoke test of the compose runtime (tests/harness/compose-runtime.ts) on a real Docker engine: compose.yaml
 * up on health, then one refusal and one success through the edge. Its own vitest project (`compose`), out of
 * `unit`: it builds images and starts ten containers. Skips, with the reason, where no engine is reachable.
 */
import { describe, expect, it } from 'vitest';
import { dockerAvailable, startComposeStack } from '../harness/compose-runtime.ts';
import { fetchWithCa } from '../harness/http.ts';
import { serviceAgentToken } from '../harness/tokens.ts';

describe('the compose runtime against a Docker engine', () => {
  it('brings compose.yaml up on health and its edge refuses an anonymous call and serves a client-credentials token', { timeout: 900_000 }, async (ctx) => {
    if (!(await dockerAvailable()))
      return ctx.skip(
        'no Docker engine reachable during npm test: compose.yaml is checked statically by the unit project (tests/compose/*) and run live by npm run test:compose',
      );
    const stack = await startComposeStack();
    try {
      const m = stack.manifest;
      const f = fetchWithCa(m.caFile);
      const initialize = JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'smoke', version: '0' } },
      });
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      const anonymous = await f(m.resources.readOnly, { method: 'POST', headers, body: initialize });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toContain(`resource_metadata="${m.edgeUrl}/.well-known/oauth-protected-resource/mcp"`);
      const t = await serviceAgentToken(m);
      const ok = await f(m.resources.readOnly, { method: 'POST', headers: { ...headers, authorization: `Bearer ${t.access_token}` }, body: initialize });
      expect(ok.status).toBe(200);
    } finally {
      await stack.stop();
    }
  });
});

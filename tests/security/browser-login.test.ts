/**
 * The authorization-code + PKCE S256 flow with a real browser at Keycloak's real login page, as a
 * person does it for a desktop agent: the resulting token reaches exactly the routes the role allows.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { browserLogin, launchChromium, NO_CHROMIUM } from '../harness/browser.ts';
import { rawRequest } from '../harness/http.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');

async function status(path: string, token: string) {
  const r = await rawRequest(m, {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'b', version: '1' } },
    }),
  });
  return r.status;
}

describe('browser login with PKCE', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  it.for([
    ['analyst', 200, 403],
    ['operator', 200, 200],
  ] as const)('lets %s log in and reach exactly the routes the role allows', async ([user, roStatus, rwStatus], ctx) => {
    if (!browser) return ctx.skip(NO_CHROMIUM);
    // mcp-agent requires consent: browserLogin approves the scopes not approved before, as a person does.
    const token = await browserLogin(m, browser, user, 'mcp:read mcp:write');
    expect(await status(new URL(m.resources.readOnly).pathname, token)).toBe(roStatus);
    expect(await status(new URL(m.resources.readWrite).pathname, token)).toBe(rwStatus);
    recordProof(ctx, { attack: `${user} logs in with a browser (PKCE S256)`, expected: `/mcp ${roStatus}, /mcp/admin ${rwStatus}`, observed: 'as expected' });
  });
});

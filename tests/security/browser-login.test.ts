/**
 * The authorization-code + PKCE S256 flow with a real browser at Keycloak's real login page, as a
 * person does it for a desktop agent: the resulting token reaches exactly the routes the role allows.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { browserLogin, launchChromium, NO_CHROMIUM } from '../harness/browser.ts';
import { rawInitialize } from '../harness/http.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');

/** The edge's status for an MCP initialize on `path` with the token. */
const status = async (path: string, token: string) => (await rawInitialize(m, path, { authorization: `Bearer ${token}` }, 'browser-login')).status;

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

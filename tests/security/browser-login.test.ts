/**
 * The authorization-code + PKCE S256 flow with a real browser at Keycloak's real login page, as a
 * person does it for a desktop agent: the resulting token reaches exactly the routes the role allows.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { startPkce } from '../harness/tokens.ts';
import { rawRequest } from '../harness/http.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');
const CHROMIUM = '/usr/bin/chromium';

async function status(path: string, token: string) {
  const r = await rawRequest(m, {
    method: 'POST', path,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'b', version: '1' } } }),
  });
  return r.status;
}

describe('browser login with PKCE', () => {
  let browser: Browser | undefined;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Flags for a root, offline sandbox: no background calls to Google's hosts, no GPU.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => browser?.close());

  it.for([
    ['analyst', 200, 403],
    ['operator', 200, 200],
  ] as const)('lets %s log in and reach exactly the routes the role allows', async ([user, roStatus, rwStatus], ctx) => {
    if (!browser) return ctx.skip(`no Chromium at ${CHROMIUM} (provision with PROVISION_BROWSER=1)`);
    const flow = await startPkce(m, 'mcp:read mcp:write');
    // The browser trusts the stack's private CA only for this test context; production clients install the CA.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const callback = page.waitForRequest((r) => r.url().startsWith(m.clients.agent.redirectUri), { timeout: 30_000 });
    await page.goto(flow.url.toString());
    await page.fill('#username', m.users[user].username);
    await page.fill('#password', m.users[user].password);
    await page.click('#kc-login');
    // mcp-agent requires consent: a person approves the scopes not approved before (the consent page reuses #kc-login for "Yes").
    const consentPage = page.waitForSelector('#kc-oauth', { timeout: 30_000 }).catch(() => null);
    if (await Promise.race([callback.then(() => null), consentPage])) await page.click('#kc-login');
    const tokens = await flow.finish((await callback).url());
    await context.close();
    expect(await status(new URL(m.resources.readOnly).pathname, tokens.access_token)).toBe(roStatus);
    expect(await status(new URL(m.resources.readWrite).pathname, tokens.access_token)).toBe(rwStatus);
    recordProof(ctx, { attack: `${user} logs in with a browser (PKCE S256)`, expected: `/mcp ${roStatus}, /mcp/admin ${rwStatus}`, observed: 'as expected' });
  });
});

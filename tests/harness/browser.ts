/** Chromium for the suites that log a person in at Keycloak's real pages (playwright-core, no bundled browser). */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import type { StackManifest } from './manifest.ts';
import { startPkce } from './tokens.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const NO_CHROMIUM = `no Chromium at ${CHROMIUM} (provision with PROVISION_BROWSER=1)`;

/** The browser, or undefined where none is provisioned (the suite then skips with NO_CHROMIUM). */
export async function launchChromium(): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) return undefined;
  return chromium.launch({
    executablePath: CHROMIUM,
    // Flags for a root, offline sandbox: no background calls to Google's hosts, no GPU.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A person's access token from Keycloak's real login page (authorization code + PKCE S256 for mcp-agent):
 * fills the form, accepts the consent page when Keycloak shows one, and trades the code for the token.
 */
export async function browserLogin(m: StackManifest, browser: Browser, user: 'analyst' | 'operator', scope: string): Promise<string> {
  const flow = await startPkce(m, scope);
  // The browser trusts the stack's private CA only for this context; production clients install the CA.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    const callback = page.waitForRequest((r) => r.url().startsWith(m.clients.agent.redirectUri), { timeout: 30_000 });
    await page.goto(flow.url.toString());
    await page.fill('#username', m.users[user].username);
    await page.fill('#password', m.users[user].password);
    await page.click('#kc-login');
    // The consent page reuses #kc-login for "Yes".
    const consentPage = page.waitForSelector('#kc-oauth', { timeout: 30_000 }).catch(() => null);
    if (await Promise.race([callback.then(() => null), consentPage])) await page.click('#kc-login');
    return (await flow.finish((await callback).url())).access_token;
  } finally {
    await context.close();
  }
}

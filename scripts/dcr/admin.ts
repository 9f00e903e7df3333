/**
 * The reaper's door to Keycloak's admin API: the client credentials grant of its own confidential client
 * (mcp-dcr-reaper) in the realm it reaps, whose service account holds realm-management manage-clients and
 * view-users only (keycloak/realm-mcp.json) — never the master realm's bootstrap administrator. On Keycloak's own
 * listener: the edge never serves /admin. The token is kept until Keycloak refuses it, then fetched once again.
 */
import { readFileSync } from 'node:fs';
import type { AdminApi } from './reaper.ts';

export interface AdminLogin {
  /** Keycloak's own listener, e.g. http://10.88.4.2:8080. */
  baseUrl: string;
  realm: string;
  clientId: string;
  /** A 0600 file holding the client secret: never argv or the environment. */
  clientSecretFile: string;
}

async function login(o: AdminLogin): Promise<string> {
  const secret = readFileSync(o.clientSecretFile, 'utf8').trim();
  // client_secret_basic (RFC 6749 §2.3.1): id and secret form-urlencoded, then Basic.
  const basic = Buffer.from(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const r = await fetch(`${o.baseUrl}/realms/${o.realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  if (r.status !== 200) {
    await r.body?.cancel();
    throw new Error(`Keycloak token endpoint answered HTTP ${r.status} to ${o.clientId}`);
  }
  return ((await r.json()) as { access_token: string }).access_token;
}

export function adminApi(o: AdminLogin): AdminApi {
  let token: string | undefined;
  const call = async (path: string, init: RequestInit) =>
    fetch(`${o.baseUrl}/admin/realms/${o.realm}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${(token ??= await login(o))}`, 'content-type': 'application/json' },
    });
  return async (path, init = {}) => {
    const r = await call(path, init);
    if (r.status !== 401) return r;
    await r.body?.cancel();
    token = undefined;
    return call(path, init);
  };
}

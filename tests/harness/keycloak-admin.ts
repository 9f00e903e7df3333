/** The realm's bootstrap admin, against Keycloak's own listener (the edge never serves the admin API). Native only. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackManifest } from './manifest.ts';

export type AdminApi = (path: string, init?: RequestInit) => Promise<Response>;

/** Requests against `/admin/realms/mcp<path>`, or null where the host cannot reach Keycloak (compose). */
export async function keycloakAdmin(m: StackManifest): Promise<AdminApi | null> {
  const base = m.keycloakInternalUrl;
  if (!base) return null;
  const password = readFileSync(join(m.secretsDir, 'kc_admin_password'), 'utf8').trim();
  const r = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password }),
  });
  if (r.status !== 200) throw new Error(`Keycloak admin login answered HTTP ${r.status}`);
  const { access_token: token } = (await r.json()) as { access_token: string };
  return (path, init = {}) =>
    fetch(`${base}/admin/realms/mcp${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
}

/** Forgets every consent `username` gave the client, so a test starts from a user who approved nothing. */
export async function revokeConsents(api: AdminApi, username: string, clientId: string): Promise<void> {
  const [user] = (await (await api(`/users?username=${encodeURIComponent(username)}&exact=true`)).json()) as { id: string }[];
  if (!user) throw new Error(`no user ${username}`);
  const r = await api(`/users/${user.id}/consents/${encodeURIComponent(clientId)}`, { method: 'DELETE' });
  // 404: nothing to forget.
  if (r.status !== 204 && r.status !== 404) throw new Error(`revoking consents answered HTTP ${r.status}`);
}

/**
 * Runs `mint` while the client's access-token lifespan is `seconds`, then restores it, whatever happens: only
 * the realm's own key can sign a token the verifier checks, so Keycloak itself mints the odd-lived ones.
 */
export async function withTokenLifespan<T>(api: AdminApi, clientId: string, seconds: number, mint: () => Promise<T>): Promise<T> {
  const [client] = (await (await api(`/clients?clientId=${encodeURIComponent(clientId)}`)).json()) as { id: string; attributes?: Record<string, string> }[];
  if (!client) throw new Error(`no client ${clientId}`);
  const put = async (lifespan: string) => {
    const r = await api(`/clients/${client.id}`, {
      method: 'PUT',
      body: JSON.stringify({ ...client, attributes: { ...client.attributes, 'access.token.lifespan': lifespan } }),
    });
    if (r.status !== 204) throw new Error(`setting the access-token lifespan of ${clientId} answered HTTP ${r.status}`);
  };
  await put(String(seconds));
  try {
    return await mint();
  } finally {
    // Keycloak merges attributes on update: an absent key keeps its value, an empty one means "realm default".
    await put(client.attributes?.['access.token.lifespan'] ?? '');
  }
}

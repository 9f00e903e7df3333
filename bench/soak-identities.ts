/**
 * The soak's callers need many identities: the MCP servers' quotas are per caller (subject + client: at most
 * maxConcurrentRequestsPerCaller = 4 calls in flight and maxSessionsPerCaller = 10 sessions), so 64 concurrent
 * callers under the production quotas are 16 identities of 4 callers each. The realm's two users (analyst on the
 * read-only route, operator on the read-write one) plus client-credential agents registered for the run through
 * Keycloak's admin API (each with its own service account: a subject of its own) and deleted after it.
 * Every token is a real one from Keycloak through the edge, renewed before it expires (realm lifespan 5 min).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { fetchWithCa } from '../tests/harness/http.ts';
import type { AdminApi } from '../tests/harness/keycloak-admin.ts';
import type { StackManifest } from '../tests/harness/manifest.ts';
import { refresh, userToken, type Tokens } from '../tests/harness/tokens.ts';

export type Route = 'ro' | 'rw';

export interface Identity {
  /** A label for reports: `analyst`, `operator`, `soak-agent-<run>-3`. */
  name: string;
  kind: 'user' | 'agent';
  route: Route;
  /** A valid access token: renewed once it is `renewAfterMs` old. */
  token(): Promise<string>;
  /** Every token this identity has used (the verifier's audit names tokens by a hash of them). */
  readonly issued: string[];
}

/** Access tokens live 5 min (keycloak/realm-mcp.json): renew at 2, well before the verifier would refuse them. */
const RENEW_AFTER_MS = 120_000;

function renewing(fetchToken: () => Promise<string>, issued: string[]): () => Promise<string> {
  let current: { value: string; at: number } | undefined;
  let pending: Promise<string> | undefined;
  return async () => {
    if (current && Date.now() - current.at < RENEW_AFTER_MS) return current.value;
    // One renewal per identity at a time, however many of its callers ask.
    pending ??= fetchToken()
      .then((value) => {
        current = { value, at: Date.now() };
        issued.push(value);
        return value;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/** A client-credentials token from the edge's token endpoint, as an agent asks for one. */
async function clientCredentials(m: StackManifest, clientId: string, secret: string, scope: string): Promise<string> {
  const r = await fetchWithCa(m.caFile)(`${m.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope }).toString(),
  });
  if (r.status !== 200) throw new Error(`token for ${clientId}: HTTP ${r.status}`);
  return ((await r.json()) as { access_token: string }).access_token;
}

function user(m: StackManifest, who: 'analyst' | 'operator', route: Route): Identity {
  const scope = route === 'rw' ? 'mcp:read mcp:write' : 'mcp:read';
  let tokens: (Tokens & { config: Awaited<ReturnType<typeof userToken>>['config'] }) | undefined;
  const issued: string[] = [];
  const fetchToken = async () => {
    // A logged-in agent refreshes; a refresh that fails (session ended) means logging in again.
    if (tokens?.refresh_token) {
      const next = await refresh(tokens.config, tokens.refresh_token).catch(() => undefined);
      if (next) {
        tokens = Object.assign(next, { config: tokens.config });
        return next.access_token;
      }
    }
    tokens = await userToken(m, who, scope);
    return tokens.access_token;
  };
  return { name: who, kind: 'user', route, issued, token: renewing(fetchToken, issued) };
}

export interface AgentRealm {
  identities: Identity[];
  /** Deletes the agents this run registered (their service accounts go with them). */
  remove(): Promise<void>;
}

/**
 * `count` identities: analyst (ro) and operator (rw) first, then agents registered now, alternating routes so that
 * both MCP servers carry half the load. An agent on the read-write route holds the realm role mcp-writer, as
 * /mcp/admin demands (nginx/verifier/src/jwt/rights.ts).
 */
export async function soakIdentities(m: StackManifest, api: AdminApi, count: number): Promise<AgentRealm> {
  const run = randomUUID().slice(0, 8);
  const identities: Identity[] = [user(m, 'analyst', 'ro'), user(m, 'operator', 'rw')].slice(0, count);
  const created: string[] = [];
  const remove = async () => {
    await Promise.all(created.map((id) => api(`/clients/${id}`, { method: 'DELETE' }).catch(() => undefined)));
  };
  try {
    const roles = Object.fromEntries(
      await Promise.all(['mcp-reader', 'mcp-writer'].map(async (name) => [name, await (await api(`/roles/${name}`)).json()] as const)),
    );
    for (let i = identities.length; i < count; i++) {
      const route: Route = i % 2 === 0 ? 'ro' : 'rw';
      const clientId = `soak-agent-${run}-${i}`;
      const secret = randomBytes(24).toString('base64url');
      const r = await api('/clients', {
        method: 'POST',
        body: JSON.stringify({
          clientId,
          secret,
          publicClient: false,
          serviceAccountsEnabled: true,
          standardFlowEnabled: false,
          directAccessGrantsEnabled: false,
          implicitFlowEnabled: false,
          protocol: 'openid-connect',
          defaultClientScopes: ['basic', 'profile', 'roles'],
          optionalClientScopes: ['mcp:read', 'mcp:write'],
        }),
      });
      if (r.status !== 201) throw new Error(`registering ${clientId}: HTTP ${r.status} ${await r.text()}`);
      const id = r.headers.get('location')!.split('/').pop()!;
      created.push(id);
      const account = (await (await api(`/clients/${id}/service-account-user`)).json()) as { id: string };
      const grant = [roles['mcp-reader'], ...(route === 'rw' ? [roles['mcp-writer']] : [])];
      const g = await api(`/users/${account.id}/role-mappings/realm`, { method: 'POST', body: JSON.stringify(grant) });
      if (g.status !== 204) throw new Error(`granting roles to ${clientId}: HTTP ${g.status}`);
      const scope = route === 'rw' ? 'mcp:read mcp:write' : 'mcp:read';
      const issued: string[] = [];
      identities.push({ name: clientId, kind: 'agent', route, issued, token: renewing(() => clientCredentials(m, clientId, secret, scope), issued) });
    }
    // Every identity proves it can get a token before any caller starts.
    await Promise.all(identities.map((i) => i.token()));
  } catch (e) {
    await remove();
    throw e;
  }
  return { identities, remove };
}

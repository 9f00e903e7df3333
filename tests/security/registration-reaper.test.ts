/**
 * The registration reaper's own credential (issue #12, least privilege): the confidential client mcp-dcr-reaper,
 * client credentials only, whose service account holds realm-management manage-clients and view-users in realm
 * `mcp` and nothing else. Its token is refused by both MCP routes at the edge (no MCP audience) and by every admin
 * call outside what the reaper does: another realm's administration, and granting itself more roles.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { CLIENTS, REALM } from '../../contract/contract.ts';
import { composeProject } from '../harness/compose-engine.ts';
import { fetchWithCa, rawInitialize } from '../harness/http.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');
const NO_ADMIN = 'this native stack names no Keycloak listener (manifest.keycloakInternalUrl)';

const secret = () => readFileSync(join(m.secretsDir, 'dcr_reaper_secret'), 'utf8').trim();
const basic = (id: string, s: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(s)}`).toString('base64')}`;

/** A token endpoint answer for the reaper's client, through the edge as any client would ask. */
async function tokenRequest(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetchWithCa(m.caFile)(`${m.issuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { authorization: basic(CLIENTS.reaper, secret()) },
    body: new URLSearchParams(form),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function reaperToken(): Promise<string> {
  const r = await tokenRequest({ grant_type: 'client_credentials' });
  expect(r.status).toBe(200);
  return String(r.body.access_token);
}

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe("the registration reaper's client holds realm-management rights in realm mcp, nothing more", () => {
  it('gets a token by client credentials only, naming no audience and carrying no role; the password grant is refused', async (ctx) => {
    const token = await reaperToken();
    const c = claims(token);
    // Its rights are the service account's role mappings, looked up by Keycloak's admin API; the token names none.
    const password = await tokenRequest({ grant_type: 'password', username: m.users.analyst.username, password: m.users.analyst.password });
    expect({ aud: c.aud, azp: c.azp, resource_access: c.resource_access, realm_access: c.realm_access }).toEqual({
      aud: undefined,
      azp: CLIENTS.reaper,
      resource_access: undefined,
      realm_access: undefined,
    });
    expect({ status: password.status, error: password.body.error, token: password.body.access_token }).toEqual({
      status: 400,
      error: 'unauthorized_client',
      token: undefined,
    });
    recordProof(ctx, {
      attack: "mint the reaper client's token (client credentials), then try the password grant for analyst with the reaper's secret",
      expected: 'a token with no aud and no roles; password grant 400 unauthorized_client, no token',
      observed: `aud ${JSON.stringify(c.aud)}, resource_access ${JSON.stringify(c.resource_access)}, realm_access ${JSON.stringify(c.realm_access)}; password grant ${password.status} ${String(password.body.error)}`,
    });
  });

  it.for([
    ['read-only', () => new URL(m.resources.readOnly).pathname],
    ['read-write', () => new URL(m.resources.readWrite).pathname],
  ] as const)('cannot open the %s MCP route: 401 invalid_token, the token is not for this resource (wrong_audience)', async ([what, path], ctx) => {
    const r = await rawInitialize(m, path(), { authorization: `Bearer ${await reaperToken()}` });
    const challenge = String(r.headers['www-authenticate'] ?? '');
    expect(r.status).toBe(401);
    expect(challenge).toMatch(/error="invalid_token", error_description="the token is not for this resource"/);
    recordProof(ctx, {
      attack: `MCP initialize on the ${what} route with the registration reaper's access token`,
      expected: '401, WWW-Authenticate error="invalid_token" "the token is not for this resource" (verifier code wrong_audience)',
      observed: `${r.status} ${challenge.replace(/resource_metadata="[^"]*"/, 'resource_metadata=…')}`,
    });
  });

  it("cannot administer the master realm nor grant itself more roles: 403 from Keycloak's admin API; its own job answers 200", async (ctx) => {
    // Native: from the runner, on Keycloak's listener. Compose: inside the dcr-reaper container (the only place,
    // besides the edge, that reaches Keycloak), with the secret file certs installed for it.
    const args: ProbeArgs =
      m.runtime === 'native'
        ? { kc: m.keycloakInternalUrl ?? '', secretFile: join(m.secretsDir, 'dcr_reaper_secret'), realm: REALM, clientId: CLIENTS.reaper }
        : { kc: 'http://keycloak:8080', secretFile: '/run/credentials/dcr_reaper_secret', realm: REALM, clientId: CLIENTS.reaper };
    if (!args.kc) return ctx.skip(NO_ADMIN);
    const r = m.runtime === 'native' ? await adminProbe(args) : await inReaperContainer(args);
    expect(r).toEqual({ own: 200, masterUsers: 403, masterClients: 403, newRealm: 403, escalate: 403, realmSettings: 403 });
    recordProof(ctx, {
      attack: `with the reaper's token on Keycloak's admin API (${m.runtime === 'native' ? 'from the runner' : 'inside the dcr-reaper container'}): list master-realm users and clients, create a realm, map realm-admin onto its own service account, change realm mcp's settings`,
      expected: 'GET mcp clients 200 (its job); every other call 403',
      observed: `mcp clients ${r.own}; master users ${r.masterUsers}, master clients ${r.masterClients}; new realm ${r.newRealm}; self-grant realm-admin ${r.escalate}; realm settings ${r.realmSettings}`,
    });
  });
});

interface ProbeArgs {
  kc: string;
  secretFile: string;
  realm: string;
  clientId: string;
}

/**
 * The admin calls, with the reaper's own token, that must fail, and the one it needs. Self-contained (no imports,
 * no closure), so the same function also runs as `node -e` inside the reaper's container (inReaperContainer).
 */
async function adminProbe(a: ProbeArgs): Promise<Record<string, number>> {
  const fs = process.getBuiltinModule('node:fs');
  const secret = fs.readFileSync(a.secretFile, 'utf8').trim();
  const basic = Buffer.from(`${encodeURIComponent(a.clientId)}:${encodeURIComponent(secret)}`).toString('base64');
  const t = await fetch(`${a.kc}/realms/${a.realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  const token = ((await t.json()) as { access_token: string }).access_token;
  const admin = (path: string, init: RequestInit = {}) =>
    fetch(`${a.kc}/admin/realms${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  const status = async (p: Promise<Response>) => {
    const r = await p;
    await r.body?.cancel();
    return r.status;
  };
  const json = async <T>(path: string) => (await (await admin(path)).json()) as T;
  const own = await status(admin(`/${a.realm}/clients?first=0&max=1`));
  const masterUsers = await status(admin('/master/users?max=1'));
  const masterClients = await status(admin('/master/clients?max=1'));
  const newRealm = await status(admin('', { method: 'POST', body: JSON.stringify({ realm: 'reaper-owned', enabled: true }) }));
  // Escalation inside its own realm: map realm-admin onto its own service account (needs manage-users).
  const [me] = await json<{ id: string }[]>(`/${a.realm}/users?username=service-account-${a.clientId}&exact=true`);
  const [rm] = await json<{ id: string }[]>(`/${a.realm}/clients?clientId=realm-management`);
  const role = await json<{ id: string; name: string }>(`/${a.realm}/clients/${rm?.id}/roles/realm-admin`);
  const escalate = await status(
    admin(`/${a.realm}/users/${me?.id}/role-mappings/clients/${rm?.id}`, { method: 'POST', body: JSON.stringify([{ id: role.id, name: role.name }]) }),
  );
  const realmSettings = await status(admin(`/${a.realm}`, { method: 'PUT', body: JSON.stringify({ registrationAllowed: true }) }));
  return { own, masterUsers, masterClients, newRealm, escalate, realmSettings };
}

/** adminProbe as `node -e` in the running dcr-reaper container, as its own user; its JSON answer. */
async function inReaperContainer(a: ProbeArgs): Promise<Record<string, number>> {
  const { client, project } = await composeProject();
  const c = client.container.getById(`${project}-dcr-reaper-1`);
  // Transpiled JavaScript (vitest strips the types); the arguments are a URL, a path and names, no secret.
  // `__name`: the helper a transpiler that keeps function names may call inside the function's text.
  const script = `const __name = (f) => f; (${adminProbe.toString()})(${JSON.stringify(a)}).then((r) => process.stdout.write(JSON.stringify(r)))`;
  const r = await client.container.exec(c, ['node', '-e', script]);
  if (r.exitCode !== 0) throw new Error(`probe in dcr-reaper exited ${r.exitCode}: ${r.stderr.slice(0, 300)}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

/**
 * Who the MCP tier's policy sees (server/src/policy/*): the token's realm roles and whether it was issued to a
 * person (authorization code, token exchange) or to a client acting for itself (client credentials).
 */
import type { AccessToken } from '../jwt/verify.ts';

export type PrincipalType = 'person' | 'machine';

/** Keycloak's service-account user of a client is always named `service-account-<client id, lower-cased>`. */
const SERVICE_ACCOUNT_PREFIX = 'service-account-';

/**
 * A client-credentials token is the client's own: Keycloak issues it to the client's service-account user, so
 * `preferred_username` is that fixed name and `azp` the same client. Both must agree: a person who managed to
 * pick such a username still logs in through some other client (`azp`), and stays a person.
 */
export function principalTypeOf(t: AccessToken, client: string | undefined): PrincipalType {
  const username = typeof t.preferred_username === 'string' ? t.preferred_username : '';
  return client !== undefined && username === SERVICE_ACCOUNT_PREFIX + client.toLowerCase() ? 'machine' : 'person';
}

/** Realm roles (Keycloak `realm_access.roles`); only names a header can carry unambiguously (no spaces). */
export function realmRolesOf(t: AccessToken): string[] {
  const ra = (t as { realm_access?: { roles?: unknown } }).realm_access;
  const roles = Array.isArray(ra?.roles) ? ra.roles : [];
  return roles.filter((r): r is string => typeof r === 'string' && /^[\x21-\x7e]{1,64}$/.test(r)).slice(0, 32);
}

/**
 * What each edge route demands of a verified token: the audience must contain the route's canonical
 * resource URI (RFC 8707 §2, RFC 9728 §7.4 — a token for one resource is useless at another), plus the
 * scope, and for writes the realm role, so neither a scope nor a role alone grants write access.
 */
import { ROLES, ROUTE_IDS, ROUTES as EDGE_ROUTES, SCOPES } from '../../../../contract/contract.ts';
import { Refusal } from '../errors.ts';
import type { AccessToken } from './verify.ts';

export type Route = (typeof ROUTE_IDS)[keyof typeof ROUTE_IDS];

export interface RouteRule {
  /** Path of the resource on the edge; the resource URI is base + path. */
  path: typeof EDGE_ROUTES.readOnly | typeof EDGE_ROUTES.readWrite;
  scope: string;
  role: string | undefined;
}

export const ROUTES: Record<Route, RouteRule> = {
  [ROUTE_IDS.readOnly]: { path: EDGE_ROUTES.readOnly, scope: SCOPES.read, role: undefined },
  [ROUTE_IDS.readWrite]: { path: EDGE_ROUTES.readWrite, scope: SCOPES.write, role: ROLES.writer },
};

export function isRoute(v: unknown): v is Route {
  return v === ROUTE_IDS.readOnly || v === ROUTE_IDS.readWrite;
}

export function scopesOf(t: AccessToken): string[] {
  return typeof t.scope === 'string' ? t.scope.split(' ').filter(Boolean) : [];
}

function realmRoles(t: AccessToken): string[] {
  const ra = (t as { realm_access?: { roles?: unknown } }).realm_access;
  return Array.isArray(ra?.roles) ? ra.roles.filter((r): r is string => typeof r === 'string') : [];
}

/** Throws the refusal for the first unmet requirement of `route`. */
export function checkRights(t: AccessToken, route: Route, publicBaseUrl: string): void {
  const rule = ROUTES[route];
  const aud = Array.isArray(t.aud) ? t.aud : t.aud === undefined ? [] : [t.aud];
  if (!aud.includes(publicBaseUrl + rule.path)) {
    // A token for the sibling resource of this same edge is genuine but lacks this resource's rights:
    // answer 403 insufficient_scope (RFC 6750 §3.1) so an agent can step up with the right scope.
    // A token for anything else is not meant for us at all: 401 invalid_token.
    const sibling = Object.values(ROUTES).some((r) => r !== rule && aud.includes(publicBaseUrl + r.path));
    throw new Refusal(sibling ? 'missing_scope' : 'wrong_audience');
  }
  if (!scopesOf(t).includes(rule.scope)) throw new Refusal('missing_scope');
  if (rule.role !== undefined && !realmRoles(t).includes(rule.role)) throw new Refusal('missing_role');
}

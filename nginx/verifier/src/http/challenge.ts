/**
 * The WWW-Authenticate challenge (RFC 6750 §3) with the MCP authorization discovery hints: where the
 * protected resource metadata lives (RFC 9728 §5.1) and which scope the route needs.
 */
import { REFUSALS, type RefusalCode } from '../errors.ts';
import { ROUTES, type Route } from '../jwt/rights.ts';

export function metadataUrl(publicBaseUrl: string, route: Route): string {
  return `${publicBaseUrl}/.well-known/oauth-protected-resource${ROUTES[route].path}`;
}

export function challenge(code: RefusalCode, route: Route, publicBaseUrl: string): string {
  const r = REFUSALS[code];
  const parts: string[] = [];
  if (r.error !== undefined) parts.push(`error="${r.error}"`, `error_description="${r.description}"`);
  parts.push(`resource_metadata="${metadataUrl(publicBaseUrl, route)}"`, `scope="${ROUTES[route].scope}"`);
  return `Bearer ${parts.join(', ')}`;
}

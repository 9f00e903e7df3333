import type { IncomingHttpHeaders } from 'node:http';
import { IDENTITY_HEADERS } from '../../../contract/contract.ts';
import { isPrincipalType, type Identity } from './identity.ts';
import { decodeMcpName } from '../policy/mcp-name-hint.ts';

/**
 * The identity headers the edge sets from the verifier's answer (nginx/templates/snippets/mcp-proxy.conf.template
 * replaces whatever a client sent under these names). They are read only after the proxy secret was checked
 * (request-guards.ts), so only the edge can assert them. Each value is capped; a list is space-separated.
 */
export { IDENTITY_HEADERS }; // the names live in contract/contract.ts, with nginx's and the verifier's

const MAX_VALUE = 256;
const MAX_LIST = 1024;

const single = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? undefined : v);
const words = (s: string) => s.split(' ').filter((w) => w.length > 0);

/** The edge-asserted caller. A repeated header counts as absent: the edge sets each one exactly once. */
export function identityFromHeaders(headers: IncomingHttpHeaders, requestId: string | undefined): Identity {
  const h = (name: string, max = MAX_VALUE) => (single(headers[name]) ?? '').slice(0, max);
  const type = h(IDENTITY_HEADERS.principalType);
  const nameHint = decodeMcpName(headers['mcp-name']);
  return {
    subject: h(IDENTITY_HEADERS.subject) || 'unknown',
    username: h(IDENTITY_HEADERS.username),
    clientId: h(IDENTITY_HEADERS.clientId) || 'unknown',
    scopes: words(h(IDENTITY_HEADERS.scopes)),
    ...(requestId ? { requestId } : {}),
    ...(h(IDENTITY_HEADERS.tokenId) ? { tokenId: h(IDENTITY_HEADERS.tokenId) } : {}),
    roles: words(h(IDENTITY_HEADERS.roles, MAX_LIST)),
    ...(isPrincipalType(type) ? { principalType: type } : {}),
    ...(nameHint !== undefined ? { nameHint } : {}),
  };
}

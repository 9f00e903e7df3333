import { userInfo } from 'node:os';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { SCOPES } from '../../../contract/contract.ts';

export const WRITE_SCOPE = SCOPES.write;
export const READ_SCOPE = SCOPES.read;

/** Who is calling: asserted by the edge (HTTP behind the proxy) or the local OS user (stdio). */
export interface Identity {
  subject: string;
  username: string;
  clientId: string;
  scopes: string[];
  /** nginx's request id (X-Request-Id), for joining the edge's, verifier's and server's records. */
  requestId?: string;
  /** The verifier's id of the token behind this call (X-Auth-Token-Id), never the token itself. */
  tokenId?: string;
  /** Realm roles of the token (X-Auth-Roles); the policy layer's groups (server/src/policy/*). */
  roles?: string[];
  /**
   * `machine` for a client's own token (client credentials), `person` for a user's (authorization code,
   * token exchange): X-Auth-Principal-Type, decided by the verifier. Absent means unknown (stdio, lab).
   */
  principalType?: PrincipalType;
  /**
   * The request's SEP-2243 Mcp-Name header, decoded — not identity but the request's claim about itself, carried
   * with it like requestId: the server refuses a call it does not match (server/src/policy/mcp-name-hint.ts).
   */
  nameHint?: string;
}

const PRINCIPAL_TYPES = ['person', 'machine'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];
export const isPrincipalType = (v: unknown): v is PrincipalType => v === 'person' || v === 'machine';

/** The stdio caller is whoever launched the process; it holds every scope the server offers. */
export function stdioIdentity(): Identity {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return { subject: 'stdio', username: name, clientId: 'stdio', scopes: [READ_SCOPE, WRITE_SCOPE] };
}

/** Lab mode without the proxy: nobody is asserted, so nobody may write. */
export function anonymousIdentity(requestId?: string): Identity {
  return { subject: 'anonymous', username: 'anonymous', clientId: 'unknown', scopes: [READ_SCOPE], ...(requestId ? { requestId } : {}) };
}

/**
 * Identity travels to tool handlers as the SDK's AuthInfo. `token` stays empty on purpose: the access
 * token never reaches this tier (nginx strips Authorization; we refuse requests that still carry it).
 */
export function toAuthInfo(id: Identity): AuthInfo {
  return {
    token: '',
    clientId: id.clientId,
    scopes: id.scopes,
    extra: {
      subject: id.subject,
      username: id.username,
      requestId: id.requestId,
      tokenId: id.tokenId,
      roles: id.roles,
      principalType: id.principalType,
      nameHint: id.nameHint,
    },
  };
}

export function fromAuthInfo(info: AuthInfo | undefined): Identity | undefined {
  const extra = info?.extra;
  if (!info || typeof extra?.subject !== 'string') return undefined;
  return {
    subject: extra.subject,
    username: typeof extra.username === 'string' ? extra.username : '',
    clientId: info.clientId,
    scopes: info.scopes,
    ...(typeof extra.requestId === 'string' ? { requestId: extra.requestId } : {}),
    ...(typeof extra.tokenId === 'string' ? { tokenId: extra.tokenId } : {}),
    ...(Array.isArray(extra.roles) ? { roles: extra.roles.filter((r): r is string => typeof r === 'string') } : {}),
    ...(isPrincipalType(extra.principalType) ? { principalType: extra.principalType } : {}),
    ...(typeof extra.nameHint === 'string' ? { nameHint: extra.nameHint } : {}),
  };
}

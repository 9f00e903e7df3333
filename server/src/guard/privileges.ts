import type { MongoClient } from 'mongodb';

/**
 * Privilege actions that change data, schema, users or the deployment. A read-only MCP server must
 * not hold any of them: read-only mode in this process is a second line, the database user is the
 * first (https://www.mongodb.com/docs/manual/reference/privilege-actions/). Closed list on purpose:
 * a new action is treated as harmless only after someone reads what it does and adds it elsewhere.
 */
export const WRITE_ACTIONS: ReadonlySet<string> = new Set([
  'anyAction',
  'internal',
  'applyOps',
  'insert',
  'update',
  'remove',
  'bypassDocumentValidation',
  'bypassWriteBlockingMode',
  'createCollection',
  'dropCollection',
  'renameCollectionSameDB',
  'convertToCapped',
  'emptycapped',
  'collMod',
  'compact',
  'createIndex',
  'dropIndex',
  'reIndex',
  'createSearchIndexes',
  'dropSearchIndex',
  'updateSearchIndex',
  'dropDatabase',
  'cloneCollectionLocalSource',
  'cloneCollectionTarget',
  'moveCollection',
  'reshardCollection',
  'enableSharding',
  'shardCollection',
  'moveChunk',
  'splitChunk',
  'refineCollectionShardKey',
  'restore',
  'createUser',
  'dropUser',
  'updateUser',
  'grantRole',
  'revokeRole',
  'createRole',
  'dropRole',
  'grantRolesToUser',
  'revokeRolesFromUser',
  'grantPrivilegesToRole',
  'revokePrivilegesFromRole',
  'changePassword',
  'changeCustomData',
  'setFeatureCompatibilityVersion',
  'shutdown',
  'replSetConfigure',
  'setParameter',
  'dropConnections',
  'fsync',
]);

export interface Privilege {
  resource?: Record<string, unknown>;
  actions?: unknown;
}

export type PrivilegeDecision = { kind: 'read-only' } | { kind: 'can-write'; actions: string[]; users: string[] } | { kind: 'unknown'; reason: string };

function describeUsers(authInfo: Record<string, unknown>): string[] {
  const users = Array.isArray(authInfo.authenticatedUsers) ? authInfo.authenticatedUsers : [];
  return users.map((u: { user?: unknown; db?: unknown }) => `${String(u?.user)}@${String(u?.db)}`);
}

/** Pure decision over a `connectionStatus` reply (with `showPrivileges: true`). */
export function decidePrivileges(reply: unknown): PrivilegeDecision {
  const authInfo = (reply as { authInfo?: Record<string, unknown> } | null)?.authInfo;
  if (!authInfo || !Array.isArray(authInfo.authenticatedUserPrivileges)) {
    return { kind: 'unknown', reason: 'the server returned no privilege information (FerretDB has no roles)' };
  }
  const users = describeUsers(authInfo);
  if (users.length === 0) {
    return { kind: 'unknown', reason: 'no authenticated user: access control is off or the server has no roles (FerretDB)' };
  }
  const found = new Set<string>();
  for (const p of authInfo.authenticatedUserPrivileges as Privilege[]) {
    if (!Array.isArray(p?.actions)) continue;
    for (const a of p.actions) if (typeof a === 'string' && WRITE_ACTIONS.has(a)) found.add(a);
  }
  return found.size === 0 ? { kind: 'read-only' } : { kind: 'can-write', actions: [...found].sort(), users };
}

/** Asks the server who we are; an unsupported command is "unknown", never "read-only". */
export async function checkPrivileges(client: MongoClient, maxTimeMS: number): Promise<PrivilegeDecision> {
  try {
    const reply = await client.db('admin').command({ connectionStatus: 1, showPrivileges: true, maxTimeMS });
    return decidePrivileges(reply);
  } catch (err) {
    return { kind: 'unknown', reason: `connectionStatus failed (${(err as { codeName?: string }).codeName ?? 'error'}); FerretDB may not support it` };
  }
}

export const WRITE_CREDENTIALS_MESSAGE = 'Never use database write credentials with the MCP Server in read-only mode: the database user holds write actions';

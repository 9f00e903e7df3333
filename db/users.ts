/**
 * Database users. The MCP servers get the least privilege their route needs: `mcp_reader` may only read
 * the app database, `mcp_writer` may read and write it; neither can touch users, roles or other databases.
 * SCRAM-SHA-256 only (RFC 7677), never SCRAM-SHA-1. Idempotent: an existing user whose password already
 * works and whose roles match is left untouched.
 * FerretDB v1.24 refuses createUser with a non-empty `roles` (it does not implement authorization), so on
 * FerretDB users are created with `roles: []` and only authentication is enforced.
 */
import type { Db } from 'mongodb';
import { connect, isAuthFailure, type ConnectionSpec } from './connection.ts';

export type DbKind = 'mongod' | 'ferretdb';
export const READER = 'mcp_reader';
export const WRITER = 'mcp_writer';

type Role = { role: string; db: string };
type Log = (line: string) => void;

export function appRoles(kind: DbKind, dbName: string): Record<string, Role[]> {
  if (kind === 'ferretdb') return { [READER]: [], [WRITER]: [] };
  return { [READER]: [{ role: 'read', db: dbName }], [WRITER]: [{ role: 'readWrite', db: dbName }] };
}

async function passwordWorks(base: ConnectionSpec, name: string, password: string): Promise<boolean> {
  try {
    const c = await connect({ ...base, user: { name, password } });
    await c.close();
    return true;
  } catch (err) {
    if (isAuthFailure(err)) return false;
    throw err;
  }
}

const sameRoles = (a: Role[], b: Role[]) =>
  JSON.stringify(a.map((r) => `${r.db}.${r.role}`).sort()) === JSON.stringify(b.map((r) => `${r.db}.${r.role}`).sort());

/** Creates or repairs one user in the admin database; returns what it did. */
export async function ensureUser(
  admin: Db,
  base: ConnectionSpec,
  kind: DbKind,
  name: string,
  password: string,
  roles: Role[],
  log: Log,
): Promise<'created' | 'updated' | 'unchanged'> {
  const info = await admin.command({ usersInfo: { user: name, db: 'admin' } });
  const existing = (info.users as Array<{ roles?: Role[] }> | undefined)?.[0];
  if (!existing) {
    await admin.command({ createUser: name, pwd: password, roles, mechanisms: ['SCRAM-SHA-256'] });
    log(`created user ${name}`);
    return 'created';
  }
  const rolesOk = kind === 'ferretdb' || sameRoles(existing.roles ?? [], roles);
  const pwdOk = await passwordWorks(base, name, password);
  if (rolesOk && pwdOk) return 'unchanged';
  const update: Record<string, unknown> = { updateUser: name };
  if (!pwdOk) Object.assign(update, { pwd: password, mechanisms: ['SCRAM-SHA-256'] });
  if (!rolesOk) update.roles = roles;
  await admin.command(update);
  log(`updated user ${name} (${[!pwdOk && 'password', !rolesOk && 'roles'].filter(Boolean).join(', ')})`);
  return 'updated';
}

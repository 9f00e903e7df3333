import { z } from 'zod';
import { ToolError, type ErrorCode } from '../errors.ts';
import type { Finding, StageFinding } from './pipeline-guard.ts';
import { clip, refsOfArguments, refsOfStage, type NamespaceRef } from './namespace-refs.ts';

/**
 * Which databases and collections a tool may name. MongoDB keeps users, roles and their SCRAM keys in
 * `admin`, the oplog in `local`, sessions and sharding state in `config`, and per-database metadata
 * (views, profiler, stored JS) in `system.*` collections
 * (https://www.mongodb.com/docs/manual/reference/system-collections/). Database RBAC may or may not
 * stop a reader there (FerretDB has no roles), so this server refuses them itself, by default and
 * before any database round trip; `allowReservedNamespaces` widens the rule entry by entry.
 *
 * Names are compared in a canonical form — Unicode NFKC, invisible characters dropped, trimmed,
 * lower-cased, a database name cut at its first dot or NUL — because MongoDB treats database names that
 * differ only in case as the same one. A lookalike that a backend would not resolve is at worst a false
 * refusal, never a bypass.
 */
export const RESERVED_DATABASES = ['admin', 'local', 'config'] as const;

export interface Allowance {
  databases: ReadonlySet<string>;
  namespaces: ReadonlySet<string>;
}

export interface Refusal {
  code: Extract<ErrorCode, 'NAMESPACE_FORBIDDEN' | 'INVALID_ARGUMENT'>;
  message: string;
}

const INVISIBLE = /[\p{Cc}\p{Cf}]/gu;
// https://www.mongodb.com/docs/manual/reference/limits/#naming-restrictions (the union of both platforms).
const BAD_DB_CHARS = /[/\\. "$*<>:|?\p{Cc}\p{Cf}]/u;
const BAD_COLL_CHARS = /[$\p{Cc}\p{Cf}]/u;
const SYSTEM_COLL = /(^|\.)system\./;
const ALLOW_HINT = 'set allowReservedNamespaces to widen this';
const reservedDbs = new Set<string>(RESERVED_DATABASES);

const canonical = (name: string) => name.normalize('NFKC').replace(INVISIBLE, '').trim().toLowerCase();
export const canonicalDb = (name: string) => canonical(name.normalize('NFKC').split(/[.\0]/, 1)[0] ?? '');
export const canonicalColl = (name: string) => canonical(name);

const isReservedDb = (db: string) => reservedDbs.has(canonicalDb(db));
// `system.` anywhere after a dot too: a backend that splits a namespace at its first dot must not reach one.
const isSystemColl = (coll: string) => SYSTEM_COLL.test(canonicalColl(coll));
const validDb = (db: string) => db.trim() !== '' && !BAD_DB_CHARS.test(db);
const validColl = (coll: string) => coll.trim() !== '' && !BAD_COLL_CHARS.test(coll);

/** Why a configuration entry is unusable, or null. Entries only widen: one that widens nothing is a typo. */
export function allowanceEntryError(entry: string): string | null {
  const dot = entry.indexOf('.');
  const db = dot < 0 ? entry : entry.slice(0, dot);
  const coll = dot < 0 ? undefined : entry.slice(dot + 1);
  if (!validDb(db) || (coll !== undefined && !validColl(coll)) || entry.includes('*')) {
    return 'is not a database name or <database>.<collection> (no wildcards)';
  }
  if (coll === undefined ? !isReservedDb(db) : !isReservedDb(db) && !isSystemColl(coll)) {
    return `names nothing reserved (only ${RESERVED_DATABASES.join(', ')} or a system.* collection need allowing)`;
  }
  return null;
}

/** The config field's item check: every entry valid, reported by position, never by value. */
export const allowanceEntries = z.array(z.string()).superRefine((entries, ctx) => {
  entries.forEach((entry, i) => {
    const error = allowanceEntryError(entry);
    if (error) ctx.addIssue({ code: 'custom', message: `entry ${i + 1} ${error}` });
  });
});

export function allowanceFrom(entries: readonly string[]): Allowance {
  const databases = new Set<string>();
  const namespaces = new Set<string>();
  for (const entry of entries) {
    const dot = entry.indexOf('.');
    if (dot < 0) databases.add(canonicalDb(entry));
    else namespaces.add(`${canonicalDb(entry.slice(0, dot))}.${canonicalColl(entry.slice(dot + 1))}`);
  }
  return { databases, namespaces };
}

/** The pure decision for one reference: null when it may be served. */
export function namespaceRefusal(ref: NamespaceRef, allowance: Allowance): Refusal | null {
  const { db, coll } = ref;
  const where = clip(ref.where);
  const named = db !== undefined && coll !== undefined && allowance.namespaces.has(`${canonicalDb(db)}.${canonicalColl(coll)}`);
  if (db !== undefined && isReservedDb(db) && !named && !allowance.databases.has(canonicalDb(db))) {
    const which = canonicalDb(db);
    return {
      code: 'NAMESPACE_FORBIDDEN',
      message: `${where}: the ${which} database is reserved (${RESERVED_DATABASES.join(', ')} are not served; ${ALLOW_HINT})`,
    };
  }
  if (coll !== undefined && isSystemColl(coll) && !named) {
    return { code: 'NAMESPACE_FORBIDDEN', message: `${where}: system collections (system.*) are not served (${ALLOW_HINT})` };
  }
  if (db !== undefined && !validDb(db)) return { code: 'INVALID_ARGUMENT', message: `${where}: not a valid database name` };
  if (coll !== undefined && !validColl(coll)) return { code: 'INVALID_ARGUMENT', message: `${where}: not a valid collection name` };
  return null;
}

/** Listing filters: a database or collection is shown only if a tool could name it. */
export function databaseVisible(db: string, allowance: Allowance): boolean {
  return namespaceRefusal({ db, where: 'list' }, allowance) === null;
}

export function collectionVisible(db: string, coll: string, allowance: Allowance): boolean {
  return namespaceRefusal({ db, coll, where: 'list' }, allowance) === null;
}

/**
 * Refuses a call that names a reserved namespace anywhere — its own database/collection, a rename
 * target, or any `$lookup`/`$graphLookup`/`$unionWith`/`$out`/`$merge` at any depth (inside `$facet`,
 * sub-pipelines, `explain`) — or that uses a cluster-wide stage. Runs before the database sees anything.
 */
export function enforceNamespacePolicy(args: unknown, stages: readonly StageFinding[], clusterStages: readonly Finding[], allowed: readonly string[]): void {
  const cluster = clusterStages[0];
  if (cluster) {
    throw new ToolError(
      'NAMESPACE_FORBIDDEN',
      `stage ${clip(cluster.operator, 40)} (at ${clip(cluster.path)}) reads beyond the named collection and is not served`,
    );
  }
  const allowance = allowanceFrom(allowed);
  const own = refsOfArguments(args);
  const database = (args as { database?: unknown } | null)?.database;
  const current = typeof database === 'string' ? database : undefined;
  for (const ref of [...own, ...stages.flatMap((s) => refsOfStage(s, current))]) {
    const refusal = namespaceRefusal(ref, allowance);
    if (refusal) throw new ToolError(refusal.code, refusal.message);
  }
}

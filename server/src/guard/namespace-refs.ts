import { ToolError } from '../errors.ts';
import type { StageFinding } from './pipeline-guard.ts';

/**
 * Which namespaces a call names: its own `database`/`collection`/`newName`, and the targets of the stages
 * the pipeline guard found at any depth. Pure extraction; namespace-policy.ts decides. Shapes it cannot
 * read are refused as INVALID_ARGUMENT rather than guessed at.
 */

/** A database and/or collection a call names, and which argument named it. */
export interface NamespaceRef {
  db?: string | undefined;
  coll?: string | undefined;
  where: string;
}

/** Caller-supplied text in a refusal stays short (a 900 kB name must not come back in the reply). */
export const clip = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n)}…` : s);

type Spec = Record<string, unknown>;
const isSpec = (v: unknown): v is Spec => v !== null && typeof v === 'object' && !Array.isArray(v);
const invalid = (where: string) => new ToolError('INVALID_ARGUMENT', `${clip(where)}: a namespace must be a collection name or {db, coll}`);

/** Every value under `key` in a stage spec, matched like operators (trimmed, any case): MongoDB would reject a variant, a looser backend must not see one unchecked. */
function fieldsOf(spec: Spec, key: string): unknown[] {
  return Object.entries(spec)
    .filter(([k]) => k.trim().toLowerCase() === key)
    .map(([, v]) => v);
}

function stringsOf(values: unknown[], where: string): string[] {
  return values.map((v) => {
    if (typeof v !== 'string') throw invalid(where);
    return v;
  });
}

/**
 * The namespaces in one `{db, <collKey>}` object: a stage spec (`$lookup` with `from`, `$unionWith` with
 * `coll`, `$merge` with `into`) or a `{db, coll}` target inside one. A `db` beside the collection key is read
 * wherever it appears, even where MongoDB has no such syntax: a backend that accepts it must not reach one.
 * EJSON wrappers (`{$symbol: …}`) and other shapes are refused, not guessed at.
 */
function refsOfObject(spec: Spec, current: string | undefined, where: string, collKey: string, mayNameNothing: boolean): NamespaceRef[] {
  const dbs = stringsOf(fieldsOf(spec, 'db'), where);
  const colls = fieldsOf(spec, collKey);
  const keys = Object.keys(spec).map((k) => k.trim().toLowerCase());
  if (keys.some((k) => k.startsWith('$')) || (dbs.length === 0 && colls.length === 0 && !mayNameNothing)) throw invalid(where);
  const bases = dbs.length > 0 ? dbs : [current];
  // A database named without a collection is checked alone; with one, the namespace is checked whole.
  const out: NamespaceRef[] = colls.length === 0 ? dbs.map((db) => ({ db, where })) : [];
  for (const c of colls) {
    if (typeof c === 'string') for (const db of bases) out.push({ db, coll: c, where });
    else if (isSpec(c)) out.push(...refsOfObject(c, current, where, 'coll', false));
    else throw invalid(where);
  }
  return out;
}

/** Where each stage names its target collection when given as an object. */
const TARGET_KEY = { $lookup: 'from', $graphlookup: 'from', $unionwith: 'coll', $out: 'coll', $merge: 'into' } as const;

/**
 * The namespaces one stage names: a string spec is a collection of the current database (`$unionWith`,
 * `$out`, `$merge`); an object spec is read by refsOfObject. `$lookup`/`$unionWith` without a collection
 * (`pipeline: [{$documents: …}]`) name none. Sub-pipelines are not read here: the guard's walk reports
 * their stages itself.
 */
export function refsOfStage(found: StageFinding, current: string | undefined): NamespaceRef[] {
  const { stage, spec, path } = found;
  if (typeof spec === 'string') return [{ db: current, coll: spec, where: path }];
  if (!isSpec(spec)) throw invalid(path);
  return refsOfObject(spec, current, path, TARGET_KEY[stage], stage !== '$out');
}

/** The namespaces a tool's own arguments name: the same three fields in every tool that has them. */
export function refsOfArguments(args: unknown): NamespaceRef[] {
  const a = isSpec(args) ? args : {};
  const db = typeof a.database === 'string' ? a.database : undefined;
  const out: NamespaceRef[] = [];
  for (const field of ['collection', 'newName'] as const) {
    const coll = a[field];
    if (typeof coll === 'string') out.push({ db, coll, where: db === undefined ? field : `database/${field}` });
  }
  // Database-level tools (list-collections, db-stats, drop-database) name the database alone.
  if (db !== undefined && out.length === 0) out.push({ db, where: 'database' });
  return out;
}

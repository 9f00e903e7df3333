import { PolicyDenied } from './denied.ts';
import type { ToolDefinition } from '../tools/tool.ts';

/**
 * The `@redact` obligation: fields of a collection that must never reach this caller — neither as values nor
 * through a filter, sort or expression that would let the caller infer them (a count of `{email: /^a/}` leaks
 * as much as the e-mail itself). Applied to the tool's arguments before it runs, per tool:
 * - aggregate (and explain of one): `{$unset: fields}` is PREPENDED, so no stage — `$group`, `$project`,
 *   `$facet`, `$lookup` `let` — ever sees the fields. Appending it would miss `{$group: {_id: "$email"}}`.
 * - find, count (and explain of them): the filter, sort and projection must not name the fields (nor `$$ROOT`,
 *   `$$CURRENT`, `$getField` of them); the projection becomes an exclusion of the fields, or stays a plain
 *   inclusion that does not name them. Computed projections are refused here (use aggregate).
 * - metadata tools other than explain return no document values: nothing to do.
 * - anything else (a write tool under a redacting permit) cannot be made safe: refused.
 * Refusals cite INDIRECT_RULE / UNENFORCEABLE_RULE, or the rule that asked for the redaction.
 */
export const UNENFORCEABLE_RULE = 'redaction-unenforceable';

type Args = Record<string, unknown>;
const isObject = (v: unknown): v is Args => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Whether a value names one of the fields anywhere: a key path segment, a `$field` path, a bare field name, or the whole document. */
export function mentions(value: unknown, fields: ReadonlySet<string>): boolean {
  const named = (path: string) => path.split('.').some((segment) => fields.has(segment));
  const walk = (v: unknown, depth: number): boolean => {
    if (depth > 200) return true; // refuse rather than guess (the guard refuses deeper input anyway)
    if (typeof v === 'string') {
      const s = v.trim();
      if (/^\$\$(root|current)\b/i.test(s)) return true;
      return named(s.replace(/^\$+/, ''));
    }
    if (Array.isArray(v)) return v.some((x) => walk(x, depth + 1));
    if (!isObject(v)) return false;
    return Object.entries(v).some(([k, x]) => named(k.trim()) || walk(x, depth + 1));
  };
  return walk(value, 0);
}

/** A find projection with the fields removed: an exclusion gains them; a plain inclusion must not name them. */
function redactedProjection(projection: unknown, fields: readonly string[], rule: string): Args {
  const p = isObject(projection) ? projection : {};
  const values = Object.entries(p)
    .filter(([k]) => k.trim() !== '_id')
    .map(([, v]) => v);
  if (values.some((v) => typeof v !== 'number' && typeof v !== 'boolean')) {
    throw new PolicyDenied(UNENFORCEABLE_RULE, `computed projections of a redacted collection are not served (policy ${rule}); use aggregate`);
  }
  const inclusion = values.some((v) => v === true || (typeof v === 'number' && v !== 0));
  return inclusion ? p : { ...p, ...Object.fromEntries(fields.map((f) => [f, 0])) };
}

function checkNotNamed(values: unknown[], set: ReadonlySet<string>, rule: string, what: string): void {
  if (values.some((v) => mentions(v, set))) {
    throw new PolicyDenied(rule, `${what} names a field this caller may not read (personal data is redacted)`);
  }
}

/** The tool's arguments with the obligation applied, or a refusal. Pure: returns a new object. */
export function applyRedaction(tool: ToolDefinition, args: Args, fields: readonly string[], rule: string): Args {
  const set = new Set(fields);
  const unset = { $unset: [...fields] };
  switch (tool.name) {
    case 'aggregate':
      return { ...args, pipeline: [unset, ...((args.pipeline as unknown[]) ?? [])] };
    case 'find':
      checkNotNamed([args.filter, args.sort, args.projection], set, rule, 'the filter, sort or projection');
      return { ...args, projection: redactedProjection(args.projection, fields, rule) };
    case 'count':
      checkNotNamed([args.query], set, rule, 'the query');
      return args;
    case 'explain': {
      const [m] = (args.method as Array<{ name: string; arguments: Args }>) ?? [];
      if (m?.name === 'aggregate')
        return { ...args, method: [{ ...m, arguments: { ...m.arguments, pipeline: [unset, ...((m.arguments.pipeline as unknown[]) ?? [])] } }] };
      checkNotNamed([m?.arguments], set, rule, 'the explained query');
      return args;
    }
    default:
      if (tool.operationType === 'metadata') return args;
      throw new PolicyDenied(UNENFORCEABLE_RULE, `${tool.name} cannot redact fields (policy ${rule})`);
  }
}

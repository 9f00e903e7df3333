import type { Collection, Document } from 'mongodb';
import { ToolError } from '../errors.ts';
import type { ToolContext } from './tool.ts';

/** FerretDB reports its backend's plan as text: SQLite `SCAN <table>`, PostgreSQL `Seq Scan`. */
const BACKEND_SCAN = /^(?:.*\bdetail=)?SCAN\b|\bSeq Scan\b/;

/**
 * True when an explain document (any verbosity, find or aggregate, sharded or not) contains a
 * COLLSCAN stage anywhere: the winning plan of a stage, a shard, or an aggregation cursor stage —
 * or, on FerretDB, a full-table scan line in the backend plan.
 */
export function usesCollectionScan(explain: unknown): boolean {
  const stack: unknown[] = [explain];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string' && BACKEND_SCAN.test(node)) return true;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    const n = node as Record<string, unknown>;
    if (n.stage === 'COLLSCAN') return true;
    for (const [key, value] of Object.entries(n)) if (key !== 'rejectedPlans' && key !== 'command') stack.push(value);
  }
  return false;
}

export type PlannedQuery = { kind: 'filter'; filter: Document } | { kind: 'pipeline'; pipeline: Document[] };

/** With indexCheck on, ask the server for the plan first and refuse a collection scan. */
export async function enforceIndexCheck(coll: Collection, query: PlannedQuery, ctx: ToolContext): Promise<void> {
  if (!ctx.config.indexCheck) return;
  const options = { maxTimeMS: ctx.config.maxTimeMS };
  const explain =
    query.kind === 'filter'
      ? await coll.find(query.filter, options).explain('queryPlanner')
      : await coll.aggregate(query.pipeline, options).explain('queryPlanner');
  if (usesCollectionScan(explain)) {
    throw new ToolError('INDEX_CHECK', `the query on ${coll.namespace} would scan the whole collection; use an indexed filter (indexCheck is on)`);
  }
}

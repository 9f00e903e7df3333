/**
 * Pure inspection of filters, updates and pipelines for operators a read-only or JS-free server must
 * refuse. It looks at EVERY object key at ANY depth — not only at top-level stages — because write
 * stages hide in `$facet` branches and in `$lookup`/`$unionWith` sub-pipelines, and JS hides in
 * `$expr`, `$group` accumulators and `$addFields`. A key is flagged wherever it appears: refusing a
 * harmless `$out` key inside `$literal` is the price of never missing a real one. The same walk finds the
 * stages that name another namespace (sub-pipelines are walked, so nesting depth does not matter).
 */

/** Stages that write (https://www.mongodb.com/docs/manual/reference/operator/aggregation/out/, /merge/). */
export const WRITE_STAGES = ['$out', '$merge'] as const;

/** Operators that run JavaScript on the server, and the EJSON/BSON Code type that carries JS. */
export const SERVER_SIDE_JS = ['$where', '$function', '$accumulator', '$code'] as const;

/**
 * Stages that name a namespace other than the tool's own: `$lookup`/`$graphLookup` (`from`), `$unionWith`
 * (`coll`, `db`), `$out` (`db`, `coll`), `$merge` (`into`). The namespace policy reads their targets.
 */
export const NAMESPACE_STAGES = ['$lookup', '$graphlookup', '$unionwith', '$out', '$merge'] as const;

/**
 * Stages that read beyond the named collection — other users' operations and sessions, the cluster's
 * catalog, the query history, change streams, SQL over any namespace — and none of which any tool here
 * needs. `$_`-prefixed (internal) stages are refused with them. Lower-case, as matched.
 */
export const CLUSTER_STAGES = [
  '$currentop',
  '$listsessions',
  '$listlocalsessions',
  '$listsampledqueries',
  '$listcatalog',
  '$listclustercatalog',
  '$querystats',
  '$querysettings',
  '$shardeddatadistribution',
  '$plancachestats',
  '$changestream',
  '$changestreamsplitlargeevent',
  '$sql',
  '$backupcursor',
  '$backupcursorextend',
] as const;

/** Deeper input than this is refused outright instead of being walked (stack safety). */
export const MAX_DEPTH = 150;

export interface Finding {
  operator: string;
  path: string;
}

/** A namespace-naming stage with its (unvalidated) specification, for the namespace policy. */
export interface StageFinding extends Finding {
  stage: (typeof NAMESPACE_STAGES)[number];
  spec: unknown;
}

export interface Inspection {
  writeStages: Finding[];
  serverSideJs: Finding[];
  namespaceStages: StageFinding[];
  clusterStages: Finding[];
  tooDeep: boolean;
}

const writeSet = new Set<string>(WRITE_STAGES);
const jsSet = new Set<string>(SERVER_SIDE_JS);
const namespaceSet = new Set<string>(NAMESPACE_STAGES);
const clusterSet = new Set<string>(CLUSTER_STAGES);

function isBsonCode(value: object): boolean {
  return (value as { _bsontype?: unknown })._bsontype === 'Code';
}

/** Walks any JSON/BSON-like value and reports every flagged key with its path. */
export function inspect(value: unknown, rootPath = '$'): Inspection {
  const result: Inspection = { writeStages: [], serverSideJs: [], namespaceStages: [], clusterStages: [], tooDeep: false };
  const seen = new Set<object>();
  const walk = (node: unknown, path: string, depth: number): void => {
    if (node === null || typeof node !== 'object') return;
    if (depth > MAX_DEPTH) {
      result.tooDeep = true;
      return;
    }
    if (seen.has(node)) return;
    seen.add(node);
    if (isBsonCode(node)) result.serverSideJs.push({ operator: 'Code', path });
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, `${path}[${i}]`, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(node)) {
      // Operator names are matched case-insensitively and trimmed: a near-miss spelling is at worst a
      // false refusal, never a bypass.
      const name = key.trim().toLowerCase();
      const childPath = `${path}.${key}`;
      if (writeSet.has(name)) result.writeStages.push({ operator: key, path: childPath });
      if (jsSet.has(name)) result.serverSideJs.push({ operator: key, path: childPath });
      if (namespaceSet.has(name)) result.namespaceStages.push({ operator: key, path: childPath, stage: name as StageFinding['stage'], spec: child });
      if (clusterSet.has(name) || name.startsWith('$_')) result.clusterStages.push({ operator: key, path: childPath });
      walk(child, childPath, depth + 1);
    }
  };
  walk(value, rootPath, 0);
  return result;
}

import type { Identity } from '../identity/identity.ts';
import { inspect, type StageFinding } from '../guard/pipeline-guard.ts';
import { clip, refsOfArguments, refsOfStage, type NamespaceRef } from '../guard/namespace-refs.ts';
import { canonicalColl, canonicalDb } from '../guard/namespace-policy.ts';
import { isWriteOperation, type ToolDefinition } from '../tools/tool.ts';
import { PolicyDenied } from './denied.ts';
import type { PolicyEngine, PolicyRequest, PolicyResource } from './engine.ts';
import { applyRedaction } from './redact.ts';

/** A redaction asked for a collection the call reaches only through a stage: its output cannot be redacted. */
export const INDIRECT_RULE = 'indirect-redaction';

const STAGE_NAMES: Record<StageFinding['stage'], string> = {
  $lookup: '$lookup',
  $graphlookup: '$graphLookup',
  $unionwith: '$unionWith',
  $out: '$out',
  $merge: '$merge',
};

export interface CallAuthorization {
  /** The arguments the tool runs with: the caller's, with any redaction obligation applied. */
  args: Record<string, unknown>;
  /** The permit that allowed the call's own namespace (for the audit record). */
  rule: string;
  /** A permit that requires the user's approval (elicitation) before the call runs, else null. */
  approval: string | null;
}

/** One question per namespace the call names — its own, and every stage target at any depth. */
interface Touch {
  ref: NamespaceRef;
  indirect: boolean;
  stage: string;
  writes: boolean;
}

/**
 * The namespaces a call touches, in the canonical form the reserved-namespace policy compares (case-folded,
 * NFKC): a rule about shop.customers also covers shop.Customers. Reuses the reserved-namespace extraction
 * (namespace-refs.ts), so both policies see exactly the same references — `$lookup`/`$graphLookup`/
 * `$unionWith`/`$out`/`$merge` inside `$facet`, sub-pipelines and `explain` included.
 */
function touchesOf(tool: ToolDefinition, args: unknown): Touch[] {
  const writes = isWriteOperation(tool.operationType);
  const own: Touch[] = refsOfArguments(args).map((ref) => ({ ref, indirect: false, stage: '', writes: writes || ref.where.endsWith('newName') }));
  const database = (args as { database?: unknown } | null)?.database;
  const current = typeof database === 'string' ? database : undefined;
  const staged = inspect(args, 'arguments').namespaceStages.flatMap((s) =>
    refsOfStage(s, current).map((ref) => ({ ref, indirect: true, stage: STAGE_NAMES[s.stage], writes: s.stage === '$out' || s.stage === '$merge' })),
  );
  return [...own, ...staged];
}

function resourceOf(ref: NamespaceRef): PolicyResource {
  if (ref.db === undefined) return { kind: 'server' };
  const db = canonicalDb(ref.db);
  return ref.coll === undefined ? { kind: 'database', db } : { kind: 'collection', db, coll: canonicalColl(ref.coll) };
}

const describe = (r: PolicyResource) => (r.kind === 'server' ? 'this server' : r.kind === 'database' ? clip(r.db, 64) : clip(`${r.db}.${r.coll}`));

/**
 * The decision for one tools/call (resources/read goes through the same dispatch): every namespace it
 * touches must be allowed; the first refusal throws PolicyDenied naming its rule. Runs after the argument
 * schema and the reserved-namespace guard, before the database sees anything.
 */
export function authorizeCall(engine: PolicyEngine, tool: ToolDefinition, args: Record<string, unknown>, identity: Identity): CallAuthorization {
  const touches = touchesOf(tool, args);
  // A tool that names no namespace (list-databases) is asked about the server as a whole.
  if (touches.length === 0) touches.push({ ref: { where: 'server' }, indirect: false, stage: '', writes: isWriteOperation(tool.operationType) });
  let rule: string | null = null;
  let approval: string | null = null;
  let out = args;
  for (const t of touches) {
    const request: PolicyRequest = { identity, tool, resource: resourceOf(t.ref), indirect: t.indirect, stage: t.stage, writes: t.writes };
    const d = engine.decide(request);
    const what = `${tool.name} on ${describe(request.resource)}${t.indirect ? ` (through ${t.stage} at ${clip(t.ref.where, 80)})` : ''}`;
    if (!d.allowed) throw new PolicyDenied(d.rule, `${what} is not allowed for this caller`);
    if (d.redact.length > 0) {
      if (t.indirect) throw new PolicyDenied(INDIRECT_RULE, `${what}: rule ${d.rule} allows it only with fields redacted, which a stage's output cannot be`);
      out = applyRedaction(tool, out, d.redact, d.rule);
    }
    rule ??= d.rule;
    approval ??= d.approval;
  }
  return { args: out, rule: rule ?? '', approval };
}

/**
 * Listings (list-databases, list-collections): a database is shown when the caller may list its collections,
 * a collection when it may read its schema — the weakest use of each. A refusal is just a hidden name.
 */
export function namespaceVisibility(engine: PolicyEngine, identity: Identity): (db: string, coll?: string) => boolean {
  const probe = (name: string) => engine.tools.find((t) => t.name === name);
  const listCollections = probe('list-collections');
  const schema = probe('collection-schema');
  return (db, coll) => {
    const tool = coll === undefined ? listCollections : schema;
    if (!tool) return false;
    const resource: PolicyResource =
      coll === undefined ? { kind: 'database', db: canonicalDb(db) } : { kind: 'collection', db: canonicalDb(db), coll: canonicalColl(coll) };
    return engine.decide({ identity, tool, resource, indirect: false, stage: '', writes: false }).allowed;
  };
}

/** tools/list: the tools this caller could use on some namespace (a hidden tool is refused on call as well). */
export function visibleTools<T extends ToolDefinition>(engine: PolicyEngine, tools: readonly T[], identity: Identity): T[] {
  return tools.filter((t) => engine.mayUse(identity, t));
}

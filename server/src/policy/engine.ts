import { readFileSync } from 'node:fs';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Identity } from '../identity/identity.ts';
import { isWriteOperation, type ToolDefinition } from '../tools/tool.ts';
import { loadPolicySet, PolicyLoadError, type LoadedPolicySet } from './policy-set.ts';

/** What one decision is about: a tool used on one database, collection or the server as a whole. */
export type PolicyResource = { kind: 'server' } | { kind: 'database'; db: string } | { kind: 'collection'; db: string; coll: string };

export interface PolicyRequest {
  identity: Identity;
  tool: ToolDefinition;
  resource: PolicyResource;
  /** Reached through a stage (`$lookup`, `$unionWith`, …) rather than the tool's own database/collection. */
  indirect: boolean;
  stage: string;
  writes: boolean;
}

export interface PolicyDecision {
  allowed: boolean;
  /** Refused: the forbid that matched, `default-deny` (no permit matched) or `policy-error`. Allowed: the first permit. */
  rule: string;
  /** Allowed: every field any satisfied permit asks to remove (obligations accumulate: the strictest wins). */
  redact: readonly string[];
  /** Allowed: the id of a satisfied permit that requires the user's approval, else null. */
  approval: string | null;
}

/** Rule ids the engine itself answers with (reserved: a policy file should not reuse them). */
export const DEFAULT_DENY = 'default-deny';
const POLICY_ERROR = 'policy-error';

/**
 * Decisions are pure functions of the request (no clock in the context), so this many are remembered until
 * the next reload. The key is the whole principal entity (roles, scopes, …), the tool, the resource and the context.
 */
const CACHE_MAX = 10_000;

export interface EngineOptions {
  /** false: ask Cedar every time (the benchmark's uncached figure). */
  cache?: boolean;
}

type Uid = { type: string; id: string };
const uid = (type: string, id: string): Uid => ({ type: `Mcp::${type}`, id });

/** Identity → Cedar principal. A caller the edge did not type (stdio, lab) is a Person: never a Machine by default. */
function principalOf(identity: Identity): { uid: Uid; attrs: Record<string, unknown>; parents: Uid[] } {
  return {
    uid: uid(identity.principalType === 'machine' ? 'Machine' : 'Person', identity.subject),
    attrs: { username: identity.username, clientId: identity.clientId, scopes: identity.scopes },
    parents: (identity.roles ?? []).map((r) => uid('Role', r)),
  };
}

function resourceOf(r: PolicyResource): { uid: Uid; attrs: Record<string, unknown>; parents: Uid[] } {
  if (r.kind === 'server') return { uid: uid('Server', 'server'), attrs: {}, parents: [] };
  if (r.kind === 'database') return { uid: uid('Database', r.db), attrs: {}, parents: [] };
  return { uid: uid('Collection', `${r.db}.${r.coll}`), attrs: { database: r.db, name: r.coll }, parents: [uid('Database', r.db)] };
}

const actionOf = (tool: ToolDefinition) => ({ uid: uid('Action', tool.name), attrs: {}, parents: [uid('Action', tool.operationType)] });

type Expr = cedar.Expr;

/**
 * Whether a residual expression can still be true. Cedar leaves `unknown && false` unsimplified (evaluation
 * order decides which error would surface), so a literal `false` anywhere in a conjunction rules it out.
 */
function canBeTrue(e: Expr): boolean {
  if ('Value' in e) return e.Value !== false;
  if ('&&' in e)
    return canBeTrue((e as { '&&': { left: Expr; right: Expr } })['&&'].left) && canBeTrue((e as { '&&': { left: Expr; right: Expr } })['&&'].right);
  if ('||' in e)
    return canBeTrue((e as { '||': { left: Expr; right: Expr } })['||'].left) || canBeTrue((e as { '||': { left: Expr; right: Expr } })['||'].right);
  return true;
}

const satisfiable = (p: cedar.PolicyJson) => p.conditions.every((c) => c.kind !== 'when' || canBeTrue(c.body));

/**
 * The decision point: Cedar (cedar-wasm) over the loaded policy file. `decide` answers one (principal, tool,
 * resource, context) question; authorize.ts asks it once per namespace a call touches. `reload` swaps the
 * policy set atomically, or keeps the old one when the new file does not load.
 */
export class PolicyEngine {
  #set: LoadedPolicySet;
  #cache = new Map<string, PolicyDecision>();
  #visible = new Map<string, boolean>();
  readonly path: string;
  readonly tools: readonly ToolDefinition[];
  readonly readOnly: boolean;
  readonly #cacheMax: number;

  private constructor(path: string, set: LoadedPolicySet, tools: readonly ToolDefinition[], readOnly: boolean, options: EngineOptions) {
    this.path = path;
    this.#set = set;
    this.tools = tools;
    this.readOnly = readOnly;
    this.#cacheMax = options.cache === false ? 0 : CACHE_MAX;
  }

  /** Throws PolicyLoadError (start-up: exit 2) when the file cannot be read or does not load. */
  static fromFile(path: string, tools: readonly ToolDefinition[], readOnly: boolean, options: EngineOptions = {}): PolicyEngine {
    return new PolicyEngine(path, PolicyEngine.#read(path, tools), tools, readOnly, options);
  }

  static fromText(text: string, tools: readonly ToolDefinition[], readOnly: boolean, options: EngineOptions = {}): PolicyEngine {
    return new PolicyEngine('(inline)', loadPolicySet(text, tools), tools, readOnly, options);
  }

  static #read(path: string, tools: readonly ToolDefinition[]): LoadedPolicySet {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new PolicyLoadError(`cannot read the policy file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return loadPolicySet(text, tools);
  }

  /** Re-reads the file (SIGHUP). A file that does not load leaves the current policy in force. */
  reload(): { ok: true; rules: number } | { ok: false; error: string } {
    try {
      this.#set = PolicyEngine.#read(this.path, this.tools);
    } catch (e) {
      return { ok: false, error: e instanceof PolicyLoadError ? e.message : String(e) };
    }
    this.#cache.clear();
    this.#visible.clear();
    return { ok: true, rules: this.#set.rules.size };
  }

  get ruleIds(): string[] {
    return [...this.#set.rules.keys()];
  }

  decide(req: PolicyRequest): PolicyDecision {
    const principal = principalOf(req.identity);
    const resource = resourceOf(req.resource);
    const context = { indirect: req.indirect, stage: req.stage, writes: req.writes, readOnly: this.readOnly };
    const key = JSON.stringify([principal, req.tool.name, resource.uid, context]);
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const answer = cedar.statefulIsAuthorized({
      principal: principal.uid,
      action: uid('Action', req.tool.name),
      resource: resource.uid,
      context,
      preparsedPolicySetId: this.#set.cedarId,
      entities: [principal, actionOf(req.tool), resource],
    });
    const decision = this.#decisionOf(answer);
    if (this.#cacheMax === 0) return decision;
    // Oldest first out: a Map iterates in insertion order.
    if (this.#cache.size >= this.#cacheMax) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(key, decision);
    return decision;
  }

  #decisionOf(answer: cedar.AuthorizationAnswer): PolicyDecision {
    // Fail closed: a policy that errored (e.g. a missing attribute) may have been a forbid.
    if (answer.type !== 'success' || answer.response.diagnostics.errors.length > 0) {
      const errored = answer.type === 'success' ? answer.response.diagnostics.errors[0]?.policyId : undefined;
      return { allowed: false, rule: errored ?? POLICY_ERROR, redact: [], approval: null };
    }
    // Cedar reports the determining policies as a set; file order makes the cited rule stable.
    const ids = new Set(answer.response.diagnostics.reason);
    const reasons = [...this.#set.rules.values()].filter((r) => ids.has(r.id));
    if (answer.response.decision === 'deny') return { allowed: false, rule: reasons[0]?.id ?? DEFAULT_DENY, redact: [], approval: null };
    const redact = [...new Set(reasons.flatMap((r) => r.redact))];
    // An allowed call cites the permit that attached an obligation, if any: that is the one to explain.
    const cited = reasons.find((r) => r.redact.length > 0 || r.approval) ?? reasons[0];
    return { allowed: true, rule: cited?.id ?? DEFAULT_DENY, redact, approval: reasons.find((r) => r.approval)?.id ?? null };
  }

  /**
   * Whether any permit could let this caller use the tool on some resource (tools/list): Cedar's partial
   * evaluation with the resource unknown. Only a certain deny hides a tool; tools/call still decides per call.
   */
  mayUse(identity: Identity, tool: ToolDefinition): boolean {
    const principal = principalOf(identity);
    const key = JSON.stringify([principal, tool.name]);
    const known = this.#visible.get(key);
    if (known !== undefined) return known;
    const answer = cedar.isAuthorizedPartial({
      principal: principal.uid,
      action: uid('Action', tool.name),
      resource: null,
      context: { indirect: false, stage: '', writes: isWriteOperation(tool.operationType), readOnly: this.readOnly },
      policies: { staticPolicies: this.#set.byId },
      entities: [principal, actionOf(tool)],
    });
    // A failed evaluation hides the tool (a call would be refused too).
    const visible =
      answer.type === 'residuals' &&
      (answer.response.decision === 'allow' ||
        (answer.response.decision === null && Object.values(answer.response.residuals).some((p) => p.effect === 'permit' && satisfiable(p))));
    if (this.#visible.size >= CACHE_MAX) this.#visible.clear();
    this.#visible.set(key, visible);
    return visible;
  }
}

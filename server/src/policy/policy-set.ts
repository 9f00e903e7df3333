import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { ToolDefinition } from '../tools/tool.ts';
import { cedarSchema } from './cedar-schema.ts';

/**
 * One loaded, validated policy file. Every policy carries `@id("rule-id")` — the name a refusal and the audit
 * record cite — and may carry one obligation a permit attaches to what it allows:
 * - `@redact("name,email,address")`: the server removes these top-level fields before anything of the
 *   collection reaches the caller (server/src/policy/redact.ts);
 * - `@approval("required")`: the call runs only after the user approved it (elicitation, issue #13).
 * Anything else — a parse error, a schema violation (strict validation against cedar-schema.ts), a missing or
 * duplicate id, an unknown annotation, an obligation on a forbid — is a load error: a start-up exit 2, or a
 * reload that keeps the old set.
 */
export interface Rule {
  id: string;
  effect: 'permit' | 'forbid';
  redact: readonly string[];
  approval: boolean;
}

export interface LoadedPolicySet {
  /** The id under which the set is preparsed in cedar-wasm (changes on every load). */
  cedarId: string;
  rules: ReadonlyMap<string, Rule>;
  /** The policy text keyed by rule id: what isAuthorizedPartial (tools/list) evaluates. */
  byId: Record<string, string>;
}

export class PolicyLoadError extends Error {
  override name = 'PolicyLoadError';
}

const ANNOTATIONS = new Set(['id', 'redact', 'approval']);
const RULE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
let loads = 0;

type Diagnostic = { message: string; sourceLocations?: ReadonlyArray<{ start: number }> };

/** The first few diagnostics of a failed Cedar call, with the line they point at when `text` is the file. */
function describe(errors: readonly Diagnostic[], text?: string): string {
  const one = (e: Diagnostic) => {
    const at = e.sourceLocations?.[0]?.start;
    return text !== undefined && at !== undefined ? `line ${text.slice(0, at).split('\n').length}: ${e.message}` : e.message;
  };
  return errors.slice(0, 3).map(one).join('; ') + (errors.length > 3 ? ` (+${errors.length - 3} more)` : '');
}

function ruleOf(text: string, index: number): Rule {
  const parsed = cedar.policyToJson(text);
  if (parsed.type !== 'success') throw new PolicyLoadError(`policy ${index + 1}: ${describe(parsed.errors)}`);
  const { effect, annotations = {} } = parsed.json;
  const id = annotations.id;
  if (id === undefined || !RULE_ID.test(id)) throw new PolicyLoadError(`policy ${index + 1}: needs @id("rule-id") (lower-case letters, digits, dashes)`);
  const unknown = Object.keys(annotations).find((a) => !ANNOTATIONS.has(a));
  if (unknown) throw new PolicyLoadError(`policy ${id}: unknown annotation @${unknown} (known: @id, @redact, @approval)`);
  const redact = annotations.redact === undefined ? [] : annotations.redact.split(',').map((f) => f.trim());
  if (redact.some((f) => !FIELD.test(f))) throw new PolicyLoadError(`policy ${id}: @redact takes a comma list of top-level field names`);
  if (annotations.approval !== undefined && annotations.approval !== 'required') throw new PolicyLoadError(`policy ${id}: @approval takes "required"`);
  const approval = annotations.approval === 'required';
  if (effect === 'forbid' && (redact.length > 0 || approval)) throw new PolicyLoadError(`policy ${id}: a forbid carries no obligation`);
  return { id, effect, redact, approval };
}

/** Parses, checks and validates a policy file's text, and preparses it for evaluation. Throws PolicyLoadError. */
export function loadPolicySet(text: string, tools: readonly ToolDefinition[]): LoadedPolicySet {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type !== 'success') throw new PolicyLoadError(describe(parts.errors, text));
  if (parts.policy_templates.length > 0) throw new PolicyLoadError('templates are not supported: write static policies');
  if (parts.policies.length === 0) throw new PolicyLoadError('the file holds no policy (an empty set would deny everything)');
  const rules = new Map<string, Rule>();
  const byId: Record<string, string> = {};
  parts.policies.forEach((policyText, i) => {
    const rule = ruleOf(policyText, i);
    if (rules.has(rule.id)) throw new PolicyLoadError(`duplicate @id("${rule.id}")`);
    rules.set(rule.id, rule);
    byId[rule.id] = policyText;
  });
  const validation = cedar.validate({ schema: cedarSchema(tools), policies: { staticPolicies: byId }, validationSettings: { mode: 'strict' } });
  if (validation.type !== 'success') throw new PolicyLoadError(`validation failed: ${describe(validation.errors)}`);
  const invalid = validation.validationErrors;
  if (invalid.length > 0) throw new PolicyLoadError(`policy ${invalid[0]?.policyId}: ${describe(invalid.map((v) => v.error))}`);
  const cedarId = `policies-${++loads}`;
  const pre = cedar.preparsePolicySet(cedarId, { staticPolicies: byId });
  if (pre.type !== 'success') throw new PolicyLoadError(describe(pre.errors));
  return { cedarId, rules, byId };
}

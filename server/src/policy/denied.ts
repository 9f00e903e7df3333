import { ToolError } from '../errors.ts';

/**
 * A refusal by the policy layer: code POLICY_DENIED, the id of the rule that decided (a policy's @id, or one of
 * the engine's own: default-deny, policy-error, indirect-redaction, redaction-unenforceable). The message names
 * the rule and what was asked — never a document value. dispatch.ts copies `rule` into the audit record.
 */
export class PolicyDenied extends ToolError {
  readonly rule: string;
  constructor(rule: string, message: string) {
    super('POLICY_DENIED', `denied by policy rule ${rule}: ${message}`);
    this.rule = rule;
  }
}

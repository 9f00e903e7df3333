import { ToolError } from '../errors.ts';
import { inspect } from './pipeline-guard.ts';
import { enforceNamespacePolicy } from './namespace-policy.ts';
import { WRITE_SCOPE, type Identity } from '../identity/identity.ts';

export interface QueryPolicy {
  readOnly: boolean;
  disableServerSideJs: boolean;
  allowReservedNamespaces: readonly string[];
}

/**
 * Applies the stage/operator rules to a tool's whole argument object before anything reaches the DB:
 * no reserved database, system collection or cluster-wide stage is named anywhere (namespace-policy.ts);
 * server-side JS is refused unless explicitly enabled; `$out`/`$merge` are refused on a read-only server
 * and, on a read-write server, need the same `mcp:write` scope as the write tools (they write).
 */
export function enforceQueryPolicy(args: unknown, policy: QueryPolicy, identity: Identity): void {
  const found = inspect(args, 'arguments');
  if (found.tooDeep) throw new ToolError('INVALID_ARGUMENT', 'arguments are nested too deeply');
  enforceNamespacePolicy(args, found.namespaceStages, found.clusterStages, policy.allowReservedNamespaces);
  const js = found.serverSideJs[0];
  if (js && policy.disableServerSideJs) {
    throw new ToolError('SERVER_SIDE_JS_DISABLED', `server-side JavaScript (${js.operator} at ${js.path}) is disabled on this server`);
  }
  const stage = found.writeStages[0];
  if (!stage) return;
  if (policy.readOnly) throw new ToolError('FORBIDDEN_STAGE', `${stage.operator} (at ${stage.path}) writes data and is refused in read-only mode`);
  if (!identity.scopes.includes(WRITE_SCOPE)) {
    throw new ToolError('INSUFFICIENT_SCOPE', `${stage.operator} (at ${stage.path}) writes data and needs scope ${WRITE_SCOPE}`);
  }
}

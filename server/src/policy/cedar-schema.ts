import { OPERATION_TYPES, type ToolDefinition } from '../tools/tool.ts';

/**
 * The Cedar schema every policy file is validated against (strict mode) when it is loaded: a policy naming an
 * entity type, action or attribute that does not exist is a load error, not a rule that silently never matches.
 *
 * - Principals: `Mcp::Person` (a user's token) or `Mcp::Machine` (a client's own token), members of their realm
 *   roles (`Mcp::Role::"mcp-writer"`), with the username, client id and scopes the edge asserted.
 * - Actions: one per tool (`Mcp::Action::"find"`), each a member of its operation type
 *   (`Mcp::Action::"read"`, `"metadata"`, `"create"`, `"update"`, `"delete"`).
 * - Resources: `Mcp::Collection::"<db>.<coll>"` in `Mcp::Database::"<db>"`; database-level tools name the
 *   database; tools that name neither (list-databases) name `Mcp::Server::"server"`.
 * - Context: `indirect` (the collection is reached through a stage, not the tool's own arguments), `stage`
 *   (`$lookup`, `$graphLookup`, `$unionWith`, `$out`, `$merge`, or `""`), `writes` (the call writes this
 *   namespace: a write tool's own namespace, a `$out`/`$merge` target, a rename target), `readOnly` (the tier).
 */
export function cedarSchema(tools: readonly ToolDefinition[]): string {
  const groups = OPERATION_TYPES.map((op) => `"${op}"`).join(', ');
  const actions = tools.map(
    (t) =>
      `  action "${t.name}" in ["${t.operationType}"] appliesTo { principal: [Person, Machine], resource: [Server, Database, Collection], context: CallContext };`,
  );
  return [
    'namespace Mcp {',
    '  entity Role;',
    '  entity Person in [Role] { username: String, clientId: String, scopes: Set<String> };',
    '  entity Machine in [Role] { username: String, clientId: String, scopes: Set<String> };',
    '  entity Server;',
    '  entity Database;',
    '  entity Collection in [Database] { database: String, name: String };',
    '  type CallContext = { indirect: Bool, stage: String, writes: Bool, readOnly: Bool };',
    `  action ${groups};`,
    ...actions,
    '}',
  ].join('\n');
}

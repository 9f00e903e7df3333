import { ProtocolError, ProtocolErrorCode, type CompleteRequest, type CompleteResult } from '@modelcontextprotocol/server';
import { redactText } from '../config/help.ts';
import { ToolError, toToolError } from '../errors.ts';
import { allowanceFrom, collectionVisible, databaseVisible, namespaceRefusal } from '../guard/namespace-policy.ts';
import { refusalFor } from '../tools/exposure.ts';
import { namespaceVisibility } from '../policy/authorize.ts';
import { secretsOf, type DispatchDeps } from '../tools/dispatch.ts';
import { findPrompt } from '../prompts/catalog.ts';
import { RESOURCE_TEMPLATES } from '../resources/uris.ts';
import { protocolRecord, settle, type ProtocolCall } from '../resources/protocol-audit.ts';
import { protocolRefusal } from '../resources/read.ts';

/** The spec's cap on completion values per answer. */
const MAX_VALUES = 100;
const EMPTY: CompleteResult = { completion: { values: [], total: 0, hasMore: false } };

type Params = CompleteRequest['params'];

/** The argument names a reference accepts, or null when it names no template or prompt of ours. */
function argumentsOf(ref: Params['ref']): readonly string[] | null {
  if (ref.type === 'ref/resource') return RESOURCE_TEMPLATES.some((t) => t.uriTemplate === ref.uri) ? ['database', 'collection'] : null;
  const prompt = findPrompt(ref.name);
  return prompt ? (prompt.prompt.arguments ?? []).map((a) => a.name) : null;
}

/**
 * completion/complete for `database` and `collection`: live names from the database, filtered exactly as
 * list-databases and list-collections filter them (reserved namespaces never appear) and served only when
 * those tools are (disabledTools), under maxTimeMS. Each answer that touched the database is audited.
 */
export async function complete(params: Params, call: ProtocolCall, deps: DispatchDeps): Promise<CompleteResult> {
  const accepted = argumentsOf(params.ref);
  const label = params.ref.type === 'ref/resource' ? params.ref.uri : `prompt:${params.ref.name}`;
  if (accepted === null) throw protocolRefusal('UNKNOWN_PROMPT', `no prompt or resource template ${label.slice(0, 128)}`);
  const arg = params.argument.name;
  if (!accepted.includes(arg) || (arg !== 'database' && arg !== 'collection')) return EMPTY;
  const database = arg === 'collection' ? params.context?.arguments?.database : undefined;
  if (arg === 'collection' && !database) return EMPTY; // nothing honest to offer before the database is known
  const started = performance.now();
  const record = protocolRecord('completion', `${label}#${arg}`, call, database ?? null);
  try {
    const tool = deps.tools.find((t) => t.name === (arg === 'database' ? 'list-databases' : 'list-collections'));
    const refused = tool ? refusalFor(tool, deps.config) : 'TOOL_DISABLED';
    if (refused) throw new ToolError(refused, `${arg} completion needs ${tool?.name ?? 'a listing tool'}, which is disabled`);
    deps.audit.ready?.(); // no names leave unaudited: refused before the database when the log cannot be written
    // Names the policy hides from this caller's listings are not completed either (server/src/policy/*).
    const visible = deps.policy ? namespaceVisibility(deps.policy, call.identity) : undefined;
    const names = (await liveNames(deps, database)).filter((n) => visible === undefined || (database === undefined ? visible(n) : visible(database, n)));
    const matching = names.filter((n) => n.startsWith(params.argument.value)).sort();
    record.documents = matching.length;
    deps.audit.write(settle(record, null, false, started));
    return { completion: { values: matching.slice(0, MAX_VALUES), total: matching.length, hasMore: matching.length > MAX_VALUES } };
  } catch (err) {
    const e = toToolError(err);
    const refusal = e.code === 'NAMESPACE_FORBIDDEN' || e.code === 'TOOL_DISABLED' || e.code === 'INVALID_ARGUMENT';
    deps.audit.write(settle(record, e.code, refusal, started));
    // A reserved or disabled source completes to nothing, as a listing would show nothing there.
    if (refusal) return EMPTY;
    throw new ProtocolError(ProtocolErrorCode.InternalError, `Error [${e.code}]: ${redactText(e.message, secretsOf(deps.config))}`, { code: e.code });
  }
}

/** Database names, or the collection names of `database`, each only if a tool could name it. */
async function liveNames({ client, config }: DispatchDeps, database: string | undefined): Promise<string[]> {
  const allowance = allowanceFrom(config.allowReservedNamespaces);
  if (database === undefined) {
    const res = await client.db('admin').admin().listDatabases({ nameOnly: true, authorizedDatabases: true, maxTimeMS: config.maxTimeMS });
    return res.databases.map((d) => d.name).filter((name) => databaseVisible(name, allowance));
  }
  const refusal = namespaceRefusal({ db: database, where: 'context.arguments.database' }, allowance);
  if (refusal) throw new ToolError(refusal.code, refusal.message);
  const list = await client.db(database).listCollections({}, { nameOnly: true, authorizedCollections: true, maxTimeMS: config.maxTimeMS }).toArray();
  return list.map((c) => c.name).filter((name) => collectionVisible(database, name, allowance));
}

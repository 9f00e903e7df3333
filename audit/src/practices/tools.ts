/**
 * What an agent can do with the tools: read-only by default, no tool that points the server at another
 * cluster, read-path tricks refused. Only calls that cannot write even if accepted run by default; the
 * write-path probes need --aggressive.
 */
import { fail, notApplicable, pass, snippet, SOURCES, type Practice } from './shared.ts';
import { callTool, type ToolInfo } from '../probes/mcp.ts';
import type { ReadTarget } from '../probes/namespace.ts';
import { initializeWith } from './tokens.ts';

/** Tool names that change data or the deployment (the official server's create/update/delete categories). */
const WRITE_NAME = /^(insert|update|delete|drop|create|rename|replace|import|upsert)-|^atlas-(create|delete|update|pause|resume)/;
const CONNECT_NAME = /^(connect|switch-connection|atlas-connect-cluster)$/;

const isWrite = (t: ToolInfo) => WRITE_NAME.test(t.name) || t.annotations?.destructiveHint === true || t.annotations?.readOnlyHint === false;

const noTools = 'no MCP session: the target requires credentials (give --client-id/--client-secret-file or --token-file)';

export const readOnlyTools: Practice = {
  id: 'read-only-tools',
  title: 'No write tool listed on the audited URL',
  source: SOURCES.mongoReadOnly,
  async run(ctx) {
    const tools = await ctx.tools();
    if (!tools) return notApplicable(noTools);
    const writes = tools.filter(isWrite).map((t) => t.name);
    return writes.length ? fail(`${writes.length} write tools listed: ${writes.join(', ')}`) : pass(`${tools.length} tools, none writes`);
  },
};

export const connectTools: Practice = {
  id: 'connect-tools',
  title: 'No tool lets the agent point the server at another cluster',
  source: `${SOURCES.mongoDisableTools}; ${SOURCES.mcpBestPractices} › Scope Minimization`,
  async run(ctx) {
    const tools = await ctx.tools();
    if (!tools) return notApplicable(noTools);
    const found = tools.filter((t) => CONNECT_NAME.test(t.name)).map((t) => t.name);
    return found.length ? fail(`listed: ${found.join(', ')}`) : pass('no connect / switch-connection tool');
  },
};

export const writeRouteScope: Practice = {
  id: 'write-route-scope',
  title: 'The write URL refuses the read credential (scope enforced per route)',
  source: `${SOURCES.mcpAuthz} › Scope Challenge Handling (403 insufficient_scope); RFC 6750 §3.1; ${SOURCES.mongoReadOnly}`,
  async run(ctx) {
    if (!ctx.write) return notApplicable('no --write-url given');
    const token = await ctx.accessToken().catch(() => undefined);
    const r = await initializeWith(ctx.write, token ? { authorization: `Bearer ${token}` } : {});
    if (r.status === 200) return fail(`${ctx.write.url} served initialize to the ${token ? 'read token' : 'anonymous caller'}`);
    return r.status === 401 || r.status === 403 ? pass(`${ctx.write.url} → ${r.status} ${snippet(r.body, 60)}`) : fail(`${ctx.write.url} answered ${r.status}`);
  },
};

/**
 * A read tool call whose refusal is the practice; an acceptance cannot write (find never creates a
 * collection). A control call first — the same tool on a real namespace without the trick — must be
 * accepted, else a refusal would only show that the call was malformed.
 */
function refusedRead(id: string, title: string, source: string, trick: (t: ReadTarget) => Record<string, unknown>): Practice {
  return {
    id,
    title,
    source,
    async run(ctx) {
      const s = await ctx.session();
      const tools = await ctx.tools();
      const target = await ctx.readTarget();
      if (!s || !tools || !target) return notApplicable(noTools);
      if (!tools.some((t) => t.name === 'find')) return notApplicable('no `find` tool listed');
      const control = await callTool(s, 'find', { ...target.common, database: target.database, collection: target.collection, filter: {}, limit: 1 });
      if (control.refused)
        return notApplicable(
          `the control find on ${target.database}.${target.collection} was itself refused (${control.detail}): a refusal would prove nothing`,
        );
      const r = await callTool(s, 'find', { ...target.common, ...trick(target) });
      // An accepted call's answer may hold what it should not have read (SCRAM keys): never echoed.
      return r.refused
        ? pass(`find refused: ${r.detail} (control find on ${target.database}.${target.collection} accepted)`)
        : fail('find answered with a result, not a refusal (content withheld from this report)');
    },
  };
}

export const serverSideJs = refusedRead('server-side-js', 'Server-side JavaScript ($where) refused', SOURCES.mongoDisableTools, (t) => ({
  database: t.database,
  collection: t.collection,
  filter: { $where: 'function () { return true; }' },
  limit: 1,
}));

export const systemNamespaces = refusedRead('system-namespaces', 'admin.system.users not readable through the tools', SOURCES.mongoReadOnlyUser, () => ({
  database: 'admin',
  collection: 'system.users',
  filter: {},
  limit: 1,
}));

/** Write-path stages: if accepted they create a collection, so only with --aggressive, announced first. */
export const writeStages: Practice = {
  id: 'write-stages',
  title: '$out / $merge in an aggregate (top level and nested in $lookup) refused',
  source: SOURCES.mongoReadOnly,
  async run(ctx) {
    if (!ctx.options.aggressive) return notApplicable('writes if accepted: run with --aggressive');
    const s = await ctx.session();
    const tools = await ctx.tools();
    if (!s || !tools) return notApplicable(noTools);
    if (!tools.some((t) => t.name === 'aggregate')) return notApplicable('no `aggregate` tool listed');
    const target = (await ctx.readTarget())!;
    const on = { ...target.common, database: target.database, collection: target.collection };
    const control = await callTool(s, 'aggregate', { ...on, pipeline: [{ $match: {} }, { $limit: 1 }] });
    if (control.refused)
      return notApplicable(
        `the control aggregate on ${target.database}.${target.collection} was itself refused (${control.detail}): a refusal would prove nothing`,
      );
    const pipelines = {
      $out: [{ $out: 'mcp_audit_out' }],
      $merge: [{ $merge: { into: 'mcp_audit_merge' } }],
      'nested $out': [{ $lookup: { from: 'mcp_audit', as: 'x', pipeline: [{ $out: 'mcp_audit_nested' }] } }],
    };
    const accepted: string[] = [];
    const refusals: string[] = [];
    for (const [name, pipeline] of Object.entries(pipelines)) {
      ctx.options.announce(
        `--aggressive: aggregate ${JSON.stringify(pipeline)} on ${target.database}.${target.collection} (creates a collection if the server accepts it)`,
      );
      const r = await callTool(s, 'aggregate', { ...on, pipeline });
      if (r.refused) refusals.push(`${name}: ${r.detail}`);
      else accepted.push(name);
    }
    return accepted.length ? fail(`accepted: ${accepted.join('; ')}`) : pass(refusals.join('; '));
  },
};

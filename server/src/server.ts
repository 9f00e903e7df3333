import { z } from 'zod';
import { Server } from '@modelcontextprotocol/server';
import type { MongoClient } from 'mongodb';
import type { Config } from './config/schema.ts';
import { fromAuthInfo, type Identity } from './identity/identity.ts';
import { ALL_TOOLS } from './tools/registry.ts';
import { annotationsFor, type ToolDefinition } from './tools/tool.ts';
import { refusalFor } from './tools/exposure.ts';
import { auditUnansweredCall, dispatchToolCall } from './tools/dispatch.ts';
import { approvalChannel } from './approvals/approval-channel.ts';
import { ToolCallLedger } from './audit/tool-call-ledger.ts';
import { LISTED_RESOURCES, templatesFor } from './resources/uris.ts';
import { readResource } from './resources/read.ts';
import { visibleTools } from './policy/authorize.ts';
import type { PolicyEngine } from './policy/engine.ts';
import { PROMPTS } from './prompts/catalog.ts';
import { getPrompt } from './prompts/get.ts';
import { complete } from './completion/complete.ts';
import { notifyEvent, type ServerEvent } from './logging/server-events.ts';
import type { AuditRecord, AuditSink } from './audit/audit-log.ts';
import type { ErrorCode } from './errors.ts';

/**
 * The protocol revisions this server negotiates (2026-07-28 via server/discover, the 2025 ones via initialize).
 * 2025-03-26 is accepted for clients still on it (and for its MCP-Protocol-Version header on a session), but
 * its JSON-RPC batching is not: a batch is refused with BATCH_NOT_SUPPORTED (request-guards.ts, server/README.md).
 */
export const PROTOCOL_VERSIONS = ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'];

export interface ServerDeps {
  client: MongoClient;
  audit: AuditSink;
  /** Who is calling when the transport attaches no identity (stdio: the local user; HTTP lab mode: anonymous). */
  defaultIdentity: Identity;
  tools?: readonly ToolDefinition[];
  /** The policy file's decision point (config policyFile); absent: no per-caller policy. */
  policy?: PolicyEngine | undefined;
}

function jsonSchemaOf(tool: ToolDefinition) {
  const schema = z.toJSONSchema(tool.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete schema.$schema;
  return { ...schema, type: 'object' as const };
}

/**
 * One MCP server instance over the shared tool set. The HTTP transport builds one per session
 * (2025 revisions) or per request (2026-07-28); stdio builds one per connection.
 */
export function createServer(config: Config, deps: ServerDeps): Server {
  const tools = deps.tools ?? ALL_TOOLS;
  const server = new Server(
    { name: 'mongodb-mcp-secure', version: '0.1.0' },
    {
      capabilities: { tools: {}, resources: {}, prompts: {}, completions: {}, logging: {} },
      supportedProtocolVersions: PROTOCOL_VERSIONS,
    },
  );
  // A tools/call the SDK answers before our handler (malformed params) is audited by the ledger instead.
  const ledger = new ToolCallLedger((attempt, rpcCode) =>
    auditUnansweredCall(attempt, fromAuthInfo(attempt.authInfo) ?? deps.defaultIdentity, rpcCode, deps.audit),
  );
  ledger.attach(server);
  const callOf = (ctx: { sessionId?: string | undefined; http?: { authInfo?: Parameters<typeof fromAuthInfo>[0] } | undefined }) => ({
    identity: fromAuthInfo(ctx.http?.authInfo) ?? deps.defaultIdentity,
    sessionId: ctx.sessionId,
  });
  // Every audit record of this instance is also told to the client as a notifications/message (its closed fields only).
  const audit: AuditSink = {
    write(record) {
      deps.audit.write(record);
      const event = eventOf(record);
      if (event) notifyEvent(server, record.sessionId ?? undefined, event);
    },
    ready: () => deps.audit.ready?.(),
  };
  const dispatchDeps = { client: deps.client, config, audit, tools, policy: deps.policy };
  // Each caller is shown only the tools (and resource views) the policy could let it use.
  const served = (ctx: Parameters<typeof callOf>[0]) => {
    const open = tools.filter((t) => refusalFor(t, config) === null);
    return deps.policy ? visibleTools(deps.policy, open, callOf(ctx).identity) : open;
  };

  server.setRequestHandler('tools/list', (_request, ctx) => ({
    tools: served(ctx).map((t) => ({ name: t.name, description: t.description, inputSchema: jsonSchemaOf(t), annotations: annotationsFor(t.operationType) })),
  }));
  server.setRequestHandler('tools/call', (request, ctx) => {
    ledger.reached(ctx.mcpReq.id);
    return dispatchToolCall(
      { name: request.params.name, args: request.params.arguments ?? {}, ...callOf(ctx), approvals: approvalChannel(server, ctx, callOf(ctx).identity) },
      dispatchDeps,
    );
  });
  server.setRequestHandler('resources/list', () => ({ resources: LISTED_RESOURCES }));
  server.setRequestHandler('resources/templates/list', (_request, ctx) => ({ resourceTemplates: templatesFor(served(ctx)) }));
  server.setRequestHandler('resources/read', (request, ctx) => readResource(request.params.uri, callOf(ctx), dispatchDeps));
  server.setRequestHandler('prompts/list', () => ({ prompts: PROMPTS.map((p) => p.prompt) }));
  server.setRequestHandler('prompts/get', (request, ctx) => getPrompt(request.params.name, request.params.arguments ?? {}, callOf(ctx), { config, audit }));
  server.setRequestHandler('completion/complete', (request, ctx) => complete(request.params, callOf(ctx), dispatchDeps));
  return server;
}

/** The client-facing summary of an audit record: names from our registry or request kinds, never caller values. */
function eventOf(r: AuditRecord): ServerEvent | null {
  // A started write is told to the client when it ends (its tool_call record), not twice.
  if (r.event === 'http_refused' || r.event === 'tool_call_started' || r.outcome === 'started') return null;
  // operationType is set only when the tool was found in our registry: an unknown tool's name is caller text.
  const name = r.operationType ? (r.tool ?? r.event) : r.event;
  return { event: r.event, name, outcome: r.outcome, errorCode: r.errorCode as ErrorCode | null, documents: r.documents ?? null };
}

import { z } from 'zod';
import { Server } from '@modelcontextprotocol/server';
import type { MongoClient } from 'mongodb';
import type { Config } from './config/schema.ts';
import type { AuditSink } from './audit/audit-log.ts';
import { fromAuthInfo, type Identity } from './identity/identity.ts';
import { ALL_TOOLS } from './tools/registry.ts';
import { annotationsFor, type ToolDefinition } from './tools/tool.ts';
import { refusalFor } from './tools/exposure.ts';
import { auditUnansweredCall, dispatchToolCall } from './tools/dispatch.ts';
import { ToolCallLedger } from './audit/tool-call-ledger.ts';

/** The protocol revisions this server negotiates (2026-07-28 via server/discover, the 2025 ones via initialize). */
export const PROTOCOL_VERSIONS = ['2026-07-28', '2025-11-25', '2025-06-18'];

export interface ServerDeps {
  client: MongoClient;
  audit: AuditSink;
  /** Who is calling when the transport attaches no identity (stdio: the local user; HTTP lab mode: anonymous). */
  defaultIdentity: Identity;
  tools?: readonly ToolDefinition[];
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
    { capabilities: { tools: {} }, supportedProtocolVersions: PROTOCOL_VERSIONS },
  );
  // A tools/call the SDK answers before our handler (malformed params) is audited by the ledger instead.
  const ledger = new ToolCallLedger((attempt, rpcCode) =>
    auditUnansweredCall(attempt, fromAuthInfo(attempt.authInfo) ?? deps.defaultIdentity, rpcCode, deps.audit),
  );
  ledger.attach(server);
  server.setRequestHandler('tools/list', () => ({
    tools: tools
      .filter((t) => refusalFor(t, config) === null)
      .map((t) => ({ name: t.name, description: t.description, inputSchema: jsonSchemaOf(t), annotations: annotationsFor(t.operationType) })),
  }));
  server.setRequestHandler('tools/call', (request, ctx) => {
    ledger.reached(ctx.mcpReq.id);
    return dispatchToolCall(
      {
        name: request.params.name,
        args: request.params.arguments ?? {},
        identity: fromAuthInfo(ctx.http?.authInfo) ?? deps.defaultIdentity,
        sessionId: ctx.sessionId,
      },
      { client: deps.client, config, audit: deps.audit, tools },
    );
  });
  return server;
}

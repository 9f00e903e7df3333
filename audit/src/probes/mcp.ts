/**
 * MCP Streamable HTTP spoken by hand (JSON-RPC over POST, answers as JSON or as an SSE stream), so that a
 * probe controls every header and sees every refusal exactly as the server sent it.
 */
import { header, rawRequest, type Endpoint, type RawResponse } from './http.ts';

export const PROTOCOL_VERSION = '2025-11-25';

export const MCP_HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};

export function initializeBody(id = 1): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-audit', version: '0.1.0' } },
  });
}

export function bearer(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The JSON-RPC message of an answer: the body itself, or the first `data:` event of an SSE stream. */
export function jsonRpcOf(r: RawResponse): { result?: unknown; error?: { code: number; message: string } } | undefined {
  const text = (header(r, 'content-type') ?? '').includes('text/event-stream')
    ? r.body
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .find((d) => d.startsWith('{'))
    : r.body;
  try {
    return text ? (JSON.parse(text) as never) : undefined;
  } catch {
    return undefined;
  }
}

export interface McpSession {
  sessionId: string | undefined;
  protocolVersion: string;
  /** A JSON-RPC request in this session; the raw answer is kept for the probes that judge refusals. */
  call(method: string, params?: unknown, extraHeaders?: Record<string, string>): Promise<{ raw: RawResponse; message: ReturnType<typeof jsonRpcOf> }>;
  close(): Promise<void>;
}

/** initialize + notifications/initialized; throws with the status and body when the server refuses. */
export async function openSession(e: Endpoint, token: string | undefined): Promise<McpSession> {
  const init = await rawRequest(e, { method: 'POST', headers: { ...MCP_HEADERS, ...bearer(token) }, body: initializeBody() });
  const message = jsonRpcOf(init);
  if (init.status !== 200 || !message?.result) throw new Error(`initialize answered HTTP ${init.status}: ${init.body.slice(0, 200)}`);
  const sessionId = header(init, 'mcp-session-id');
  const protocolVersion = (message.result as { protocolVersion?: string }).protocolVersion ?? PROTOCOL_VERSION;
  const sessionHeaders = (): Record<string, string> => ({
    ...MCP_HEADERS,
    ...bearer(token),
    'mcp-protocol-version': protocolVersion,
    ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
  });
  await rawRequest(e, { method: 'POST', headers: sessionHeaders(), body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  let id = 1;
  return {
    sessionId,
    protocolVersion,
    async call(method, params, extraHeaders = {}) {
      const raw = await rawRequest(e, {
        method: 'POST',
        headers: { ...sessionHeaders(), ...extraHeaders },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }),
      });
      return { raw, message: jsonRpcOf(raw) };
    },
    async close() {
      // DELETE ends the session server-side, so an audit never holds a caller's session quota.
      if (sessionId) await rawRequest(e, { method: 'DELETE', headers: sessionHeaders() }).catch(() => undefined);
    },
  };
}

export interface ToolInfo {
  name: string;
  inputSchema?: { required?: string[] };
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean };
}

export interface ToolResult {
  isError?: boolean;
  content?: Array<{ type: string; text?: string }>;
  structuredContent?: { error?: { code?: string } };
}

export async function listTools(s: McpSession): Promise<ToolInfo[]> {
  const { raw, message } = await s.call('tools/list', {});
  if (!message?.result) throw new Error(`tools/list answered HTTP ${raw.status}: ${raw.body.slice(0, 200)}`);
  return (message.result as { tools: ToolInfo[] }).tools;
}

/** A tool call's outcome: refused (a JSON-RPC error or isError) with whatever code or text the server gave. */
export async function callTool(s: McpSession, name: string, args: Record<string, unknown>): Promise<{ refused: boolean; detail: string; result?: ToolResult }> {
  const { raw, message } = await s.call('tools/call', { name, arguments: args });
  if (!message) return { refused: true, detail: `HTTP ${raw.status}` };
  if (message.error) return { refused: true, detail: `JSON-RPC ${message.error.code} ${message.error.message}`.slice(0, 160) };
  const result = message.result as ToolResult;
  const text = (result.content ?? []).map((c) => c.text ?? '').join(' ');
  const code = result.structuredContent?.error?.code;
  return { refused: result.isError === true, detail: (code ?? text).replace(/\s+/g, ' ').slice(0, 160), result };
}

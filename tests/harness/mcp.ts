/** An MCP client session over Streamable HTTP, as an agent holds it: through the edge with a bearer token. */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { StackManifest } from './manifest.ts';
import { fetchWithCa } from './http.ts';

export interface McpSession {
  client: Client;
  transport: StreamableHTTPClientTransport;
  close(): Promise<void>;
}

export async function connectMcp(m: StackManifest, url: string, token: string | undefined, headers: Record<string, string> = {}): Promise<McpSession> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: fetchWithCa(m.caFile) as never,
    requestInit: { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } },
  });
  const client = new Client({ name: 'security-suite', version: '1.0.0' });
  await client.connect(transport);
  // DELETE ends the session server-side (MCP Streamable HTTP): a suite's sessions must not count against the
  // caller's session quota (maxSessionsPerCaller) for the 15 idle minutes that would otherwise follow.
  const close = async () => {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  };
  return { client, transport, close };
}

/** The text of a tool result's first content block. */
/** The closed error code of a refused tool call (server/src/errors.ts), or undefined for a success. */
export function errorCode(r: unknown): string | undefined {
  return (r as { structuredContent?: { error?: { code?: string } } }).structuredContent?.error?.code;
}

export function resultText(r: unknown): string {
  const c = (r as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return c.map((b) => b.text ?? '').join('\n');
}

/** An MCP client session over Streamable HTTP, as an agent holds it: through the edge with a bearer token. */
import { Client, StreamableHTTPClientTransport, type ElicitRequestFormParams, type ElicitResult } from '@modelcontextprotocol/client';
import type { StackManifest } from './manifest.ts';
import { fetchWithCa } from './http.ts';
import { unfence } from '../../server/src/tools/format.ts';

export interface McpSession {
  client: Client;
  transport: StreamableHTTPClientTransport;
  close(): Promise<void>;
}

/** Answers the server's elicitation/create (an approval, server/src/approvals/*). */
export type ElicitAnswer = (params: ElicitRequestFormParams) => ElicitResult | Promise<ElicitResult>;

/** Approves whatever is asked, naming the argument digest the form offers. */
export const approveAll: ElicitAnswer = (p) => ({
  action: 'accept',
  content: { approve: true, argsDigest: (p.requestedSchema.properties.argsDigest as { enum: string[] }).enum[0]! },
});

/** `elicit`: the client declares form elicitation and answers approvals with it; absent, it cannot be asked. */
export async function connectMcp(
  m: StackManifest,
  url: string,
  token: string | undefined,
  headers: Record<string, string> = {},
  o: { elicit?: ElicitAnswer } = {},
): Promise<McpSession> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: fetchWithCa(m.caFile) as never,
    requestInit: { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } },
  });
  const client = new Client({ name: 'security-suite', version: '1.0.0' }, o.elicit ? { capabilities: { elicitation: { form: {} } } } : {});
  const answer = o.elicit;
  if (answer) client.setRequestHandler('elicitation/create', (req) => answer(req.params as ElicitRequestFormParams));
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

/** The database content of a result, without the untrusted-data fence around it (server/src/tools/format.ts). */
export function fencedData(r: unknown): string {
  const f = unfence(resultText(r));
  if (!f) throw new Error(`not a fenced result: ${resultText(r).slice(0, 200)}`);
  return f.data;
}

export function resultText(r: unknown): string {
  const c = (r as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return c.map((b) => b.text ?? '').join('\n');
}

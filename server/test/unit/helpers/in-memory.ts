import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, type ElicitRequestFormParams, type ElicitResult } from '@modelcontextprotocol/server';
import { MongoClient } from 'mongodb';
import { createServer, type ServerDeps } from '../../../src/server.ts';
import { defaultConfig, type Config } from '../../../src/config/schema.ts';
import { memoryAuditSink } from '../../../src/audit/audit-log.ts';
import { stdioIdentity, type Identity } from '../../../src/identity/identity.ts';
import { unfence } from '../../../src/tools/format.ts';

/** A MongoClient that is never connected: refusals must happen before any database round trip. */
export function unconnectedMongo(): MongoClient {
  return new MongoClient('mongodb://127.0.0.1:9', { serverSelectionTimeoutMS: 200, connectTimeoutMS: 200 });
}

/** A real MCP client talking to a real server instance over the SDK's in-memory transport. */
/** Answers the server's elicitation/create (an approval): given, the client declares form elicitation. */
export type ElicitAnswer = (params: ElicitRequestFormParams) => ElicitResult | Promise<ElicitResult>;

/** Approves whatever is asked, echoing the digest the form offers (server/src/approvals/elicit-approval.ts). */
export const approveAll: ElicitAnswer = (p) => ({
  action: 'accept',
  content: { approve: true, argsDigest: (p.requestedSchema.properties.argsDigest as { enum: string[] }).enum[0]! },
});

export async function connectInMemory(overrides: Partial<Config> = {}, deps: Partial<ServerDeps> & { identity?: Identity; elicit?: ElicitAnswer } = {}) {
  const config = defaultConfig(overrides);
  const audit = memoryAuditSink();
  const mongo = deps.client ?? unconnectedMongo();
  const server = createServer(config, { client: mongo, audit, defaultIdentity: deps.identity ?? stdioIdentity() });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'unit-test', version: '1.0.0' }, deps.elicit ? { capabilities: { elicitation: { form: {} } } } : {});
  const answer = deps.elicit;
  if (answer) client.setRequestHandler('elicitation/create', (req) => answer(req.params as ElicitRequestFormParams));
  await client.connect(clientSide);
  return {
    client,
    audit,
    config,
    async close() {
      await client.close();
      await server.close();
      if (!deps.client) await mongo.close();
    },
  };
}

export function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}

/** A result's headline and its data with the untrusted-data fence taken off (server/src/tools/format.ts), as `headline\ndata`. */
export function unfencedOf(result: unknown): string {
  const text = textOf(result);
  const f = unfence(text);
  return f ? `${f.headline}\n${f.data}` : text;
}

export function errorCodeOf(result: unknown): string | undefined {
  return (result as { structuredContent?: { error?: { code?: string } } }).structuredContent?.error?.code;
}

import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { MongoClient } from 'mongodb';
import { createServer, type ServerDeps } from '../../../src/server.ts';
import { defaultConfig, type Config } from '../../../src/config/schema.ts';
import { memoryAuditSink } from '../../../src/audit/audit-log.ts';
import { stdioIdentity, type Identity } from '../../../src/identity/identity.ts';

/** A MongoClient that is never connected: refusals must happen before any database round trip. */
export function unconnectedMongo(): MongoClient {
  return new MongoClient('mongodb://127.0.0.1:9', { serverSelectionTimeoutMS: 200, connectTimeoutMS: 200 });
}

/** A real MCP client talking to a real server instance over the SDK's in-memory transport. */
export async function connectInMemory(overrides: Partial<Config> = {}, deps: Partial<ServerDeps> & { identity?: Identity } = {}) {
  const config = defaultConfig(overrides);
  const audit = memoryAuditSink();
  const mongo = deps.client ?? unconnectedMongo();
  const server = createServer(config, { client: mongo, audit, defaultIdentity: deps.identity ?? stdioIdentity() });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'unit-test', version: '1.0.0' });
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

export function errorCodeOf(result: unknown): string | undefined {
  return (result as { structuredContent?: { error?: { code?: string } } }).structuredContent?.error?.code;
}

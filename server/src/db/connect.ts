import { MongoClient } from 'mongodb';
import type { Config } from '../config/schema.ts';

/**
 * The one database connection, made at start-up from configuration (there is no `connect` tool, so an
 * agent can never point the server at another database or credentials). Time is bounded by the
 * per-operation maxTimeMS each tool sends: driver 7 ignores the client-wide `timeoutMS` (deprecated, no effect).
 */
export async function connectDatabase(config: Config): Promise<MongoClient> {
  const client = new MongoClient(config.connectionString, {
    appName: 'mongodb-mcp-secure',
    serverSelectionTimeoutMS: 10_000,
  });
  await client.connect();
  await client.db('admin').command({ ping: 1 });
  return client;
}

import { MongoClient, type Db, type DbOptions } from 'mongodb';
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
    // A frozen database (alive, port open, answering nothing) is only noticed by the monitor's heartbeat, whose
    // reply is awaited for connectTimeoutMS (default 30 s); then the pool is cleared and the calls waiting on it fail
    // DB_UNAVAILABLE. 5 s (a TLS handshake to a live database takes milliseconds) brings that from ~50 s to ~25 s:
    // heartbeat ≤ 10 s + 5 s + the retried read's server selection (tests/security/faults-db-freeze.test.ts).
    connectTimeoutMS: 5_000,
    // Command events when they become spans (server/src/tracing/spans.ts): otherwise not one object per command.
    // Only ever turned on here: an explicit `false` would override `monitorCommands=true` in the URI.
    ...(config.otlpTracesEndpoint !== '' ? { monitorCommands: true } : {}),
  });
  await client.connect();
  await client.db('admin').command({ ping: 1 });
  reuseDbHandles(client);
  return client;
}

/** Enough for every database a deployment names; past it the map starts over (a handle is cheap to rebuild). */
const MAX_DB_HANDLES = 256;

/**
 * `client.db(name)` builds a new Db on every call, copying the client's whole option set — the largest
 * single frame of the driver in a tools/call profile (issue #15). A Db holds no state of its own (options and
 * a name), so tools share one per database name; a call with options still gets a fresh one.
 */
function reuseDbHandles(client: MongoClient): void {
  const build = client.db.bind(client);
  const handles = new Map<string, Db>();
  client.db = (name?: string, options?: DbOptions) => {
    if (name === undefined || options !== undefined) return build(name, options);
    let db = handles.get(name);
    if (!db) {
      if (handles.size >= MAX_DB_HANDLES) handles.clear();
      db = build(name);
      handles.set(name, db);
    }
    return db;
  };
}

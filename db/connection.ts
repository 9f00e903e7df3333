/**
 * Building connection strings and clients for the stack's database. Every connection is TLS with a client
 * certificate (mutual TLS) and, when a user is given, SCRAM-SHA-256 (RFC 7677) against the admin database.
 */
import { MongoClient } from 'mongodb';

export interface ConnectionSpec {
  hosts: string[];
  tls: { caFile: string; certKeyFile: string };
  user?: { name: string; password: string };
  /** Talk to this one node even if it is a replica-set member (init, health probes). */
  direct?: boolean;
  replicaSet?: string;
  appName?: string;
}

/** A `mongodb://` URI. It holds a password when `user` is set: never log it. */
export function buildUri(s: ConnectionSpec): string {
  const cred = s.user ? `${encodeURIComponent(s.user.name)}:${encodeURIComponent(s.user.password)}@` : '';
  const q = new URLSearchParams({ tls: 'true', tlsCAFile: s.tls.caFile, tlsCertificateKeyFile: s.tls.certKeyFile });
  if (s.user) {
    q.set('authSource', 'admin');
    q.set('authMechanism', 'SCRAM-SHA-256');
  }
  if (s.direct) q.set('directConnection', 'true');
  if (s.replicaSet) q.set('replicaSet', s.replicaSet);
  if (s.appName) q.set('appName', s.appName);
  return `mongodb://${cred}${s.hosts.join(',')}/?${q.toString()}`;
}

/** Connects (and so authenticates) or throws; short timeouts, because callers poll or fail fast. */
export async function connect(s: ConnectionSpec, timeoutMs = 5_000): Promise<MongoClient> {
  const client = new MongoClient(buildUri(s), {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
  });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
}

/** True when `err` is the server refusing credentials (code 18, AuthenticationFailed). */
export function isAuthFailure(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown }; message?: unknown };
  return e?.code === 18 || e?.cause?.code === 18 || /Authentication failed/i.test(String(e?.message ?? ''));
}

/**
 * The database's transport and authentication refusals, proven against the real server (FerretDB here,
 * mongod where it is installed): no plaintext, no TLS without a client certificate from our CA, no access
 * without SCRAM credentials, no wrong password, no SCRAM-SHA-1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MongoClient, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDatabase, type Database } from '../../scripts/stack/database.ts';
import { plaintextHello, tlsHello } from './database-wire-probe.ts';

const PORT = 34110;
let db: Database;
let dir: string;

/** Resolves with the error a connection attempt ends in, or null when it connected. */
async function connectError(uri: string): Promise<Error | null> {
  const c = new MongoClient(uri, { serverSelectionTimeoutMS: 3_000, connectTimeoutMS: 3_000 });
  try {
    await c.connect();
    await c.db('shop').collection('products').findOne({});
    return null;
  } catch (err) {
    return err as Error;
  } finally {
    await c.close().catch(() => {});
  }
}

const withParams = (uri: string, change: (q: URLSearchParams) => void) => {
  const u = new URL(uri);
  change(u.searchParams);
  return u.toString();
};

describe('database transport and authentication', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'db-tls-'));
    db = await startDatabase({ dir, port: PORT, sampleData: false, log: () => {} });
  });
  afterAll(async () => {
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts the reader over TLS with a client certificate and SCRAM-SHA-256 (the control case)', async () => {
    expect(await connectError(db.readerUri)).toBeNull();
  });

  it('answers a raw hello over TLS with our client certificate (the control case for the refusals below)', async () => {
    const pem = readFileSync(db.clientCertKeyFile);
    const r = await tlsHello(db.host, db.port, { ca: readFileSync(db.caFile), cert: pem, key: pem });
    expect(r).toEqual({ answered: true });
  });

  it('refuses a plaintext connection', async () => {
    const r = await plaintextHello(db.host, db.port);
    expect(r.answered).toBe(false);
    expect(
      await connectError(
        withParams(db.readerUri, (q) => {
          q.delete('tls');
          q.delete('tlsCAFile');
          q.delete('tlsCertificateKeyFile');
        }),
      ),
    ).not.toBeNull();
  });

  it('refuses a TLS connection that presents no client certificate', async () => {
    const r = await tlsHello(db.host, db.port, { ca: readFileSync(db.caFile) });
    expect(r.answered).toBe(false);
    // The server's alert, not a client-side failure: certificate_required (TLS 1.3, RFC 8446 §4.4.2.4).
    expect(r.errorCode).toMatch(/ALERT_CERTIFICATE_REQUIRED|ALERT_HANDSHAKE_FAILURE/);
  });

  it('refuses a client certificate issued by another CA', async () => {
    const other = join(dir, 'other-ca');
    execFileSync('bash', [join(import.meta.dirname, '../../scripts/certs.sh'), other], { stdio: 'ignore' });
    const pem = readFileSync(join(other, 'mcp-client.pem'));
    const r = await tlsHello(db.host, db.port, { ca: readFileSync(db.caFile), cert: pem, key: pem });
    expect(r.answered).toBe(false);
    expect(r.errorCode).toMatch(/ALERT_UNKNOWN_CA|ALERT_BAD_CERTIFICATE/);
  });

  it('refuses TLS 1.1 even from a client that offers it', async () => {
    const own = readFileSync(db.clientCertKeyFile);
    // SECLEVEL=0 lets our OpenSSL offer TLS 1.1, so the protocol_version alert comes from the server (RFC 8996).
    const r = await tlsHello(db.host, db.port, {
      ca: readFileSync(db.caFile),
      cert: own,
      key: own,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    expect(r.answered).toBe(false);
    expect(r.errorCode).toMatch(/ALERT_PROTOCOL_VERSION/);
  });

  it('refuses a command from a client that has not authenticated', async () => {
    const anon = new URL(db.readerUri);
    anon.username = '';
    anon.password = '';
    anon.searchParams.delete('authMechanism');
    anon.searchParams.delete('authSource');
    const err = await connectError(anon.toString());
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(13); // Unauthorized
  });

  it('refuses a wrong password with AuthenticationFailed', async () => {
    const wrong = new URL(db.readerUri);
    wrong.password = 'not-the-password-0123456789abcdef';
    const err = await connectError(wrong.toString());
    expect((err as MongoServerError | null)?.code).toBe(18);
  });

  it('refuses SCRAM-SHA-1 for users created with SCRAM-SHA-256 only', async () => {
    const err = await connectError(withParams(db.readerUri, (q) => q.set('authMechanism', 'SCRAM-SHA-1')));
    expect(err).not.toBeNull();
  });
});

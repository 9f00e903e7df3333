/**
 * The command lines of the two database engines, hardened alike: no plaintext listener, TLS 1.2+, client
 * certificates from our CA required, SCRAM authentication, no server-side JavaScript, no phoning home.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface EngineSpec {
  dir: string;
  host: string;
  port: number;
  certsDir: string;
  secretsDir: string;
  requireClientCert: boolean;
}

export function whichMongod(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v mongod'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * FerretDB v1.24.2. The admin user is created at first start by --setup-* (password from the
 * FERRETDB_SETUP_PASSWORD environment variable, never argv). --test-enable-new-auth turns on SCRAM and
 * makes every command but hello/ping/saslStart… require an authenticated conversation. With a CA file the
 * TLS listener demands and verifies a client certificate (tls.RequireAndVerifyClientCert).
 */
export function ferretdbCommand(s: EngineSpec, binary: string, adminUser: string): { command: string; args: string[] } {
  return {
    command: binary,
    args: [
      '--handler=sqlite',
      `--sqlite-url=file:${join(s.dir, 'data')}/`,
      `--state-dir=${join(s.dir, 'state')}`,
      '--listen-addr=', // no plaintext listener at all
      `--listen-tls=${hostPort(s.host, s.port)}`,
      `--listen-tls-cert-file=${join(s.certsDir, 'db.crt')}`,
      `--listen-tls-key-file=${join(s.certsDir, 'db.key')}`,
      ...(s.requireClientCert ? [`--listen-tls-ca-file=${join(s.certsDir, 'ca.crt')}`] : []),
      '--test-enable-new-auth',
      '--setup-database=admin',
      `--setup-username=${adminUser}`,
      '--telemetry=disable', // no traffic to beacon.ferretdb.com
      '--debug-addr=-', // no metrics/pprof HTTP listener
      '--log-level=info',
    ],
  };
}

/** mongod as a single-node replica set (transactions, change streams; a "writable primary" to wait for). */
export function mongodCommand(s: EngineSpec): { command: string; args: string[] } {
  return {
    command: 'mongod',
    args: [
      '--dbpath',
      join(s.dir, 'data'),
      '--bind_ip',
      s.host,
      ...(s.host.includes(':') ? ['--ipv6'] : []),
      '--port',
      String(s.port),
      '--replSet',
      'rs0',
      '--keyFile',
      join(s.secretsDir, 'mongo_keyfile'), // implies --auth; required for a replica set with auth
      '--auth',
      '--tlsMode',
      'requireTLS',
      '--tlsCertificateKeyFile',
      join(s.certsDir, 'db.pem'),
      '--tlsCAFile',
      join(s.certsDir, 'ca.crt'),
      ...(s.requireClientCert ? [] : ['--tlsAllowConnectionsWithoutCertificates']),
      '--tlsDisabledProtocols',
      'TLS1_0,TLS1_1',
      '--setParameter',
      'authenticationMechanisms=SCRAM-SHA-256',
      '--noscripting',
    ],
  };
}

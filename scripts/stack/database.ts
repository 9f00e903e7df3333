/**
 * Starts the stack's database natively: mongod when it is on PATH (single-node replica set), else FerretDB
 * from the provisioning cache (SQLite backend). Either way the only listener is TLS with a required client
 * certificate and SCRAM-SHA-256 authentication; then db/init.ts creates the users and the sample data.
 * Used by the native runner and by the integration tests.
 */
import { existsSync } from 'node:fs';
import { privateDir } from './state-at-rest.ts';
import { freePort } from './ports.ts';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildUri, connect } from '../../db/connection.ts';
import { initDatabase } from '../../db/init.ts';
import { initEnv, readSecretFile, type InitOptions } from '../../db/config.ts';
import { READER, WRITER, type DbKind } from '../../db/users.ts';
import { run, startService, waitFor, type Service } from './process.ts';
import { ferretdbCommand, mongodCommand, whichMongod } from './database-command.ts';
import { DATABASE_NAME } from '../../contract/contract.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const DB_NAME = DATABASE_NAME;
const ADMIN = 'admin';

export interface DatabaseOptions {
  /** Working directory: data, state, log (and generated certs/secrets when not given). */
  dir: string;
  /** Listen address. Default 127.0.0.1; inside a namespace use 0.0.0.0 to serve every link. */
  host?: string;
  /** 0 picks a free port (on the host only; inside a namespace the default is 27017). */
  port?: number;
  /** The address put into the returned URIs and used to probe. Default: host, or 127.0.0.1 for 0.0.0.0. */
  connectHost?: string;
  netns?: string | null;
  certsDir?: string;
  secretsDir?: string;
  logFile?: string;
  /** Mutual TLS: refuse clients without a certificate from our CA. Default true. */
  requireClientCert?: boolean;
  sampleData?: boolean;
  /** Force an engine; default: mongod if on PATH, else FerretDB. */
  kind?: DbKind;
  log?: (line: string) => void;
}

export interface Database {
  kind: DbKind;
  host: string;
  port: number;
  adminUri: string;
  readerUri: string;
  writerUri: string;
  dbName: string;
  caFile: string;
  clientCertKeyFile: string;
  /** The same URI for another address of the same server (e.g. the edge-side link in netns mode). */
  uriFor(user: 'admin' | 'reader' | 'writer', host?: string): string;
  service: Service;
  stop(): Promise<void>;
}

export function ferretdbBinary(): string {
  return join(process.env.MCP_STACK_CACHE ?? join(homedir(), '.cache/mcp-security-stack'), 'bin/ferretdb');
}

async function ensureMaterial(o: DatabaseOptions): Promise<{ certs: string; secrets: string }> {
  const certs = o.certsDir ?? join(o.dir, 'certs');
  const secrets = o.secretsDir ?? join(o.dir, 'secrets');
  if (!o.certsDir) await run('bash', [join(ROOT, 'scripts/certs.sh'), certs]);
  if (!o.secretsDir) await run('bash', [join(ROOT, 'scripts/secrets.sh'), secrets]);
  for (const f of [join(certs, 'ca.crt'), join(certs, 'db.pem'), join(certs, 'mcp-client.pem'), join(secrets, 'db_admin_password')]) {
    if (!existsSync(f)) throw new Error(`database: missing ${f} (run scripts/certs.sh and scripts/secrets.sh)`);
  }
  return { certs, secrets };
}

export async function startDatabase(o: DatabaseOptions): Promise<Database> {
  const log = o.log ?? ((l: string) => process.stderr.write(`[database] ${l}\n`));
  const host = o.host ?? '127.0.0.1';
  // From the host, a namespace's loopback is unreachable: the caller names the address we probe and publish.
  if (o.netns && !o.connectHost) throw new Error('database: connectHost is required with netns (e.g. 10.88.5.2)');
  const connectHost = o.connectHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const port = o.port || (o.netns ? 27017 : await freePort(host));
  const kind: DbKind = o.kind ?? (whichMongod() ? 'mongod' : 'ferretdb');
  if (kind === 'ferretdb' && !existsSync(ferretdbBinary())) {
    throw new Error('database: neither mongod on PATH nor FerretDB in the cache; run npm run provision');
  }
  privateDir(o.dir);
  for (const d of ['data', 'state']) privateDir(join(o.dir, d));
  const { certs, secrets } = await ensureMaterial(o);
  const tls = { caFile: join(certs, 'ca.crt'), certKeyFile: join(certs, 'mcp-client.pem') };
  const passwords = {
    admin: readSecretFile(join(secrets, 'db_admin_password')),
    reader: readSecretFile(join(secrets, 'db_reader_password')),
    writer: readSecretFile(join(secrets, 'db_writer_password')),
  };
  const spec = { dir: o.dir, host, port, certsDir: certs, secretsDir: secrets, requireClientCert: o.requireClientCert ?? true };
  const cmd = kind === 'mongod' ? mongodCommand(spec) : ferretdbCommand(spec, ferretdbBinary(), ADMIN);
  const service = startService({
    name: 'database',
    command: cmd.command,
    args: cmd.args,
    netns: o.netns ?? null,
    cwd: o.dir,
    env: kind === 'ferretdb' ? { FERRETDB_SETUP_PASSWORD: passwords.admin, DO_NOT_TRACK: '1' } : {},
    logFile: o.logFile ?? join(o.dir, 'database.log'),
  });
  const names = { admin: ADMIN, reader: READER, writer: WRITER } as const;
  const uriFor = (user: keyof typeof names, h = connectHost) =>
    buildUri({ hosts: [`${h}:${port}`], tls, direct: true, user: { name: names[user], password: passwords[user] } });
  try {
    // Ready = answers `hello` over mutual TLS (FerretDB: already with the setup user, so SCRAM works too).
    await waitFor(
      `${kind} on ${connectHost}:${port}`,
      async () => {
        const c = await connect(
          { hosts: [`${connectHost}:${port}`], tls, direct: true, ...(kind === 'ferretdb' ? { user: { name: ADMIN, password: passwords.admin } } : {}) },
          2_000,
        );
        try {
          return (await c.db('admin').command({ hello: 1 })).ok === 1;
        } finally {
          await c.close();
        }
      },
      { service, timeoutMs: 60_000 },
    );
    const init: InitOptions = {
      hosts: [`${o.netns ? '127.0.0.1' : connectHost}:${port}`],
      adminUsername: ADMIN,
      passwords,
      replicaSet: kind === 'mongod' ? { name: 'rs0', members: [`${o.netns ? '127.0.0.1' : connectHost}:${port}`] } : undefined,
      tls,
      dbName: DB_NAME,
      sampleData: o.sampleData ?? true,
    };
    await runInit(init, o.netns ?? null, secrets, log);
    log(`${kind} ready on ${connectHost}:${port} (TLS, client certificate ${spec.requireClientCert ? 'required' : 'optional'}, SCRAM-SHA-256)`);
  } catch (err) {
    await service.stop();
    throw err;
  }
  return {
    kind,
    host: connectHost,
    port,
    dbName: DB_NAME,
    caFile: tls.caFile,
    clientCertKeyFile: tls.certKeyFile,
    adminUri: uriFor('admin'),
    readerUri: uriFor('reader'),
    writerUri: uriFor('writer'),
    uriFor,
    service,
    stop: () => service.stop(),
  };
}

/** In a namespace, init runs there too: mongod's localhost exception only trusts loopback connections. */
async function runInit(init: InitOptions, netns: string | null, secrets: string, log: (l: string) => void): Promise<void> {
  if (!netns) {
    await initDatabase(init, (l) => log(`init: ${l}`));
    return;
  }
  const env = initEnv(init, {
    admin: join(secrets, 'db_admin_password'),
    reader: join(secrets, 'db_reader_password'),
    writer: join(secrets, 'db_writer_password'),
  });
  await run(process.execPath, [join(ROOT, 'db/init.ts')], { netns, env });
}

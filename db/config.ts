/**
 * The init script's configuration: environment only, so that no secret ever appears in argv (ps, /proc).
 * Parsed once by one schema; a bad value stops the program with one line naming the field (exit 2).
 */
import { readFileSync } from 'node:fs';
// 'zod/v4': the v4 API whichever major is hoisted to the root (the root may hold zod 3 for another package).
import { z } from 'zod/v4';

const file = (what: string) => z.string({ error: `${what} is required` }).min(1, `${what} is required`);

export const InitEnvSchema = z.object({
  /** `mongodb://host:port[,host:port]` or a bare host list; credentials never go here. */
  DB_INIT_URI: z.string().min(1).default('127.0.0.1:27017'),
  DB_ADMIN_USERNAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('admin'),
  DB_ADMIN_PASSWORD_FILE: file('DB_ADMIN_PASSWORD_FILE'),
  DB_READER_PASSWORD_FILE: file('DB_READER_PASSWORD_FILE'),
  DB_WRITER_PASSWORD_FILE: file('DB_WRITER_PASSWORD_FILE'),
  /** `rs0` (members = the hosts of DB_INIT_URI) or `rs0/mongo1:27017,mongo2:27017,...`; absent natively. */
  DB_INIT_REPLICA_SET: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\/[^\s/]+)?$/)
    .optional(),
  DB_TLS_CA_FILE: file('DB_TLS_CA_FILE'),
  /** Client certificate + key in one PEM: the database requires one (mutual TLS). */
  DB_TLS_CERT_KEY_FILE: file('DB_TLS_CERT_KEY_FILE'),
  DB_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('shop'),
  DB_INIT_SAMPLE_DATA: z.enum(['true', 'false']).default('true'),
});

export interface InitOptions {
  /** Host list, e.g. `127.0.0.1:34100` or `mongo1:27017,mongo2:27017,mongo3:27017`. */
  hosts: string[];
  adminUsername: string;
  passwords: { admin: string; reader: string; writer: string };
  replicaSet?: { name: string; members: string[] };
  tls: { caFile: string; certKeyFile: string };
  dbName: string;
  sampleData: boolean;
}

export function readSecretFile(path: string): string {
  const v = readFileSync(path, 'utf8').trim();
  if (v.length < 16) throw new Error(`secret file ${path} is empty or too short`);
  return v;
}

export function parseHosts(uriOrHosts: string): string[] {
  const list = uriOrHosts.replace(/^mongodb:\/\//, '').replace(/[/?].*$/, '');
  if (list.includes('@')) throw new Error('DB_INIT_URI must not carry credentials (use the *_PASSWORD_FILE variables)');
  return list
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
}

/** Reads the environment; on a bad value prints one line naming the field and exits 2. */
export function initOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): InitOptions {
  const parsed = InitEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    process.stderr.write(`db-init: invalid configuration: ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}\n`);
    process.exit(2);
  }
  const e = parsed.data;
  try {
    const hosts = parseHosts(e.DB_INIT_URI);
    const [rsName, rsMembers] = (e.DB_INIT_REPLICA_SET ?? '').split('/');
    return {
      hosts,
      adminUsername: e.DB_ADMIN_USERNAME,
      passwords: {
        admin: readSecretFile(e.DB_ADMIN_PASSWORD_FILE),
        reader: readSecretFile(e.DB_READER_PASSWORD_FILE),
        writer: readSecretFile(e.DB_WRITER_PASSWORD_FILE),
      },
      replicaSet: rsName ? { name: rsName, members: rsMembers ? rsMembers.split(',') : hosts } : undefined,
      tls: { caFile: e.DB_TLS_CA_FILE, certKeyFile: e.DB_TLS_CERT_KEY_FILE },
      dbName: e.DB_NAME,
      sampleData: e.DB_INIT_SAMPLE_DATA === 'true',
    };
  } catch (err) {
    process.stderr.write(`db-init: invalid configuration: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

/** The inverse of initOptionsFromEnv, for running init as a child (e.g. inside a network namespace). */
export function initEnv(o: InitOptions, passwordFiles: { admin: string; reader: string; writer: string }): Record<string, string> {
  return {
    DB_INIT_URI: o.hosts.join(','),
    DB_ADMIN_USERNAME: o.adminUsername,
    DB_ADMIN_PASSWORD_FILE: passwordFiles.admin,
    DB_READER_PASSWORD_FILE: passwordFiles.reader,
    DB_WRITER_PASSWORD_FILE: passwordFiles.writer,
    ...(o.replicaSet ? { DB_INIT_REPLICA_SET: `${o.replicaSet.name}/${o.replicaSet.members.join(',')}` } : {}),
    DB_TLS_CA_FILE: o.tls.caFile,
    DB_TLS_CERT_KEY_FILE: o.tls.certKeyFile,
    DB_NAME: o.dbName,
    DB_INIT_SAMPLE_DATA: String(o.sampleData),
  };
}

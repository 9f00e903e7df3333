/**
 * The compose runtime of the `stack` project: brings compose.yaml up with testcontainers (health-gated,
 * like `docker compose up --wait`), copies the stack's CA out, follows the container logs into files (the
 * audit is on stderr in compose.yaml) and writes the same manifest as the native runner (compose-manifest.ts).
 */
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { MANIFEST_PATH, ROOT, removeFile, writeManifest, type StackManifest } from '../../scripts/stack/manifest.ts';
import { loadCompose } from '../compose/compose-file.ts';
import { buildComposeManifest, composeEdgeUrl, readDotEnv, type ComposeDatabase } from './compose-manifest.ts';

export const COMPOSE_DIR = resolve(ROOT, '.stack/compose');
/** One-shots that exit 0; every other active service is long-running and has a healthcheck. */
const ONE_SHOTS = new Set(['certs', 'mongo-init']);
/** Image builds plus Keycloak's first start dominate; docs/compose.md gives `up --wait` 300 s. */
const STARTUP_MS = 600_000;

type Env = Record<string, string | undefined>;

/**
 * The compose files of this run, in override order: STACK_COMPOSE_FILES (comma-separated), else
 * compose.yaml alone (upstream images). scripts/compose/test.sh sets compose.yaml,compose.offline.yaml.
 */
export function composeFiles(env: Env = process.env): string[] {
  const files = (env.STACK_COMPOSE_FILES ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  return files.length ? files : ['compose.yaml'];
}

export interface ComposePlan {
  /** Long-running services of the default profile, each waited on for health. */
  services: string[];
  database: ComposeDatabase;
}

/**
 * What the files start, merged as compose merges the two keys read here: a service parked in a profile by
 * an override does not start; the data tier is FerretDB when the last image given to mongo1 is FerretDB's.
 */
export function composePlan(files: string[]): ComposePlan {
  const docs = files.map((f) => loadCompose(f).services);
  const names = [...new Set(docs.flatMap((d) => Object.keys(d)))];
  const last = <T>(name: string, key: string): T | undefined =>
    docs.map((d) => (d[name] as Record<string, unknown> | undefined)?.[key] as T | undefined).filter((v) => v !== undefined).at(-1);
  return {
    services: names.filter((n) => !ONE_SHOTS.has(n) && !(last<string[]>(n, 'profiles') ?? []).length),
    database: /ferretdb/i.test(last<string>('mongo1', 'image') ?? '') ? 'ferretdb' : 'mongod',
  };
}

/** Where the Docker engine should be: DOCKER_HOST (unix:// or tcp://), else the default socket. */
export function dockerEndpoint(env: Env = process.env): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/** True when the engine answers `GET /_ping` with 200 within `timeoutMs` (a missing socket fails at once). */
export function dockerAvailable(o: { env?: Env; timeoutMs?: number } = {}): Promise<boolean> {
  const env = o.env ?? process.env;
  const url = new URL(dockerEndpoint(env));
  const tls = url.protocol === 'tcp:' && !!env.DOCKER_TLS_VERIFY;
  if (url.protocol !== 'unix:' && url.protocol !== 'tcp:') return Promise.resolve(false); // ssh://, npipe://: not probed
  const certs = env.DOCKER_CERT_PATH || resolve(homedir(), '.docker');
  const target = url.protocol === 'unix:'
    ? { socketPath: url.pathname }
    : { host: url.hostname, port: Number(url.port || (tls ? 2376 : 2375)) };
  let tlsFiles = {};
  try {
    if (tls) tlsFiles = { ca: readFileSync(resolve(certs, 'ca.pem')), cert: readFileSync(resolve(certs, 'cert.pem')), key: readFileSync(resolve(certs, 'key.pem')) };
  } catch {
    return Promise.resolve(false); // DOCKER_TLS_VERIFY without client certificates: the engine would refuse us
  }
  return new Promise((done) => {
    const req = (tls ? httpsRequest : httpRequest)({ ...target, ...tlsFiles, path: '/_ping', method: 'GET', timeout: o.timeoutMs ?? 2000 }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => done(false));
    req.end();
  });
}

/** The first regular file of a tar archive (what Docker's archive endpoint returns for one file path). */
export function firstFileOfTar(tar: Buffer): Buffer {
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break; // end-of-archive blocks
    const size = parseInt(header.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    if (type === '0' || type === '\0') return tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512; // skip PAX/long-name headers and directories
  }
  throw new Error('the archive holds no regular file');
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

export interface ComposeStack {
  manifest: StackManifest;
  stop(): Promise<void>;
}

export interface ComposeStackOptions {
  files?: string[];
  /** Fixed for `npm start -- --runtime compose` (so `npm stop` finds it); a fresh one per test run. */
  projectName?: string;
}

export async function startComposeStack(o: ComposeStackOptions = {}): Promise<ComposeStack> {
  const files = o.files ?? composeFiles();
  const plan = composePlan(files);
  // Idempotent: existing secrets are kept (never rotated under a running stack).
  await promisify(execFile)('bash', [resolve(ROOT, 'scripts/secrets.sh')], { cwd: ROOT });
  // Compose reads `.env` next to compose.yaml; the shell environment wins, as in compose itself.
  const edgeUrl = composeEdgeUrl(readFileSync(resolve(ROOT, 'compose.yaml'), 'utf8'), { ...readDotEnv(resolve(ROOT, '.env')), ...process.env });
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  // Health, not open ports: a mongod is ready when it is primary or secondary, Keycloak on /health/ready.
  let compose = new DockerComposeEnvironment(ROOT, files).withBuild().withStartupTimeout(STARTUP_MS)
    .withDefaultWaitStrategy(Wait.forHealthCheck());
  if (o.projectName) compose = compose.withProjectName(o.projectName);
  for (const s of plan.services) compose = compose.withWaitStrategy(`${s}-1`, Wait.forHealthCheck());
  const env = await compose.up();
  const followers: NodeJS.ReadableStream[] = [];
  let wroteShared = false;
  const stop = async () => {
    for (const f of followers) (f as unknown as { destroy?: () => void }).destroy?.();
    await env.down({ removeVolumes: true });
    removeFile(resolve(COMPOSE_DIR, 'manifest.json'));
    if (wroteShared) removeFile(MANIFEST_PATH);
  };
  try {
    mkdirSync(resolve(COMPOSE_DIR, 'logs'), { recursive: true, mode: 0o700 });
    const caFile = resolve(COMPOSE_DIR, 'ca.crt');
    // The proxy's copy of the CA certificate (credentials.sh); the CA key stays in the `pki` volume.
    // 0600 like everything under .stack/ (tests/security/state-at-rest.test.ts), though a CA certificate is public.
    writeFileSync(caFile, firstFileOfTar(await readAll(await env.getContainer('proxy-1').copyArchiveFromContainer('/run/credentials/ca.crt'))), { mode: 0o600 });
    chmodSync(caFile, 0o600); // a file left by an older run keeps its mode otherwise
    for (const s of plan.services) followers.push(await follow(env.getContainer(`${s}-1`), resolve(COMPOSE_DIR, 'logs', `${s}.log`)));
    const manifest = buildComposeManifest({ edgeUrl, secretsDir: resolve(ROOT, '.stack/secrets'), caFile, logsDir: resolve(COMPOSE_DIR, 'logs'), database: plan.database });
    writeManifest(manifest, resolve(COMPOSE_DIR, 'manifest.json'));
    // The shared path is for `npm run bench` and tools; a running native stack keeps its own.
    if (!existsSync(MANIFEST_PATH)) {
      writeManifest(manifest);
      wroteShared = true;
    }
    return { manifest, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

/**
 * Appends a container's log to `file`, whole lines only: readAudit parses every line starting with `{`, so
 * a reader must never see half a JSON line. The Docker stream is followed until stop() destroys it.
 */
async function follow(container: { logs(): Promise<NodeJS.ReadableStream> }, file: string): Promise<NodeJS.ReadableStream> {
  writeFileSync(file, '', { mode: 0o600 });
  const stream = await container.logs();
  let pending = '';
  stream.on('data', (chunk: string | Buffer) => {
    pending += chunk.toString();
    const cut = pending.lastIndexOf('\n') + 1;
    if (cut === 0) return;
    appendFileSync(file, pending.slice(0, cut));
    pending = pending.slice(cut);
  });
  stream.on('error', () => undefined); // the container went away (stop): the file keeps what arrived
  return stream;
}

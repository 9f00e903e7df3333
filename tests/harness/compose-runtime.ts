/**
 * The compose runtime of the `stack` project: brings compose.yaml up with testcontainers (health-gated,
 * like `docker compose up --wait`), copies the stack's CA out, follows the container logs into files (the
 * audit is on stderr in compose.yaml) and writes the same manifest as the native runner (compose-manifest.ts).
 */
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { extract, type ExtractOptions } from 'tar-fs';
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
  const files = (env.STACK_COMPOSE_FILES ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
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
    docs
      .map((d) => (d[name] as Record<string, unknown> | undefined)?.[key] as T | undefined)
      .filter((v) => v !== undefined)
      .at(-1);
  return {
    services: names.filter((n) => !ONE_SHOTS.has(n) && !(last<string[]>(n, 'profiles') ?? []).length),
    database: /ferretdb/i.test(last<string>('mongo1', 'image') ?? '') ? 'ferretdb' : 'mongod',
  };
}

/** Where the Docker engine should be: DOCKER_HOST (unix:// or tcp://), else the default socket. */
export function dockerEndpoint(env: Env = process.env): string {
  return env.DOCKER_HOST || 'unix:///var/run/docker.sock';
}

/**
 * True when testcontainers' runtime client finds a Docker engine it can use (DOCKER_HOST, including the
 * provisioned engine's private socket that scripts/compose/* export; ~/.testcontainers.properties; the
 * default or rootless socket) within `timeoutMs`. The client is the one `startComposeStack` then uses.
 */
export async function dockerAvailable(o: { timeoutMs?: number } = {}): Promise<boolean> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<false>((done) => {
    timer = setTimeout(() => done(false), o.timeoutMs ?? 15_000);
  });
  try {
    return await Promise.race([
      getContainerRuntimeClient().then(
        () => true,
        () => false,
      ),
      giveUp,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes the one regular file of a container archive (Docker's archive endpoint answers a tar) to `file`,
 * 0600 like everything under .stack/ (tests/security/state-at-rest.test.ts), though a CA certificate is public.
 */
export async function extractOneFile(archive: NodeJS.ReadableStream, file: string): Promise<void> {
  const into = dirname(file);
  let found = false;
  const options: ExtractOptions & { chown: boolean; umask: number } = {
    // tar-fs renames (map) before it filters (ignore): every entry is named `file`, the first regular one kept.
    map: (header) => ({ ...header, name: basename(file) }),
    ignore: (_name, header) => {
      if (header?.type !== 'file' || found) return true;
      found = true;
      return false;
    },
    umask: 0o077, // owner only, whatever mode the archive says
    chown: false, // as root, tar-fs would give the file to the container's uid (nginx's)
  };
  await pipeline(archive, extract(into, options));
  if (!found) throw new Error('the container archive holds no regular file');
  chmodSync(file, 0o600); // a file left by an older run keeps its mode otherwise
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
  let compose = new DockerComposeEnvironment(ROOT, files).withBuild().withStartupTimeout(STARTUP_MS).withDefaultWaitStrategy(Wait.forHealthCheck());
  if (o.projectName) compose = compose.withProjectName(o.projectName);
  for (const s of plan.services) compose = compose.withWaitStrategy(`${s}-1`, Wait.forHealthCheck());
  const env = await compose.up();
  const followers: { destroy(): void }[] = [];
  let wroteShared = false;
  const stop = async () => {
    for (const f of followers) f.destroy();
    await env.down({ removeVolumes: true });
    removeFile(resolve(COMPOSE_DIR, 'manifest.json'));
    if (wroteShared) removeFile(MANIFEST_PATH);
  };
  try {
    mkdirSync(resolve(COMPOSE_DIR, 'logs'), { recursive: true, mode: 0o700 });
    const caFile = resolve(COMPOSE_DIR, 'ca.crt');
    // The proxy's copy of the CA certificate (credentials.sh); the CA key stays in the `pki` volume.
    await extractOneFile(await env.getContainer('proxy-1').copyArchiveFromContainer('/run/credentials/ca.crt'), caFile);
    for (const s of plan.services) followers.push(await follow(env.getContainer(`${s}-1`), resolve(COMPOSE_DIR, 'logs', `${s}.log`)));
    const manifest = buildComposeManifest({
      edgeUrl,
      secretsDir: resolve(ROOT, '.stack/secrets'),
      caFile,
      logsDir: resolve(COMPOSE_DIR, 'logs'),
      database: plan.database,
    });
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
 * a reader must never see half a JSON line. The Docker stream is followed until stop() destroys it. A stream ends
 * when its container stops; one the engine restarts (restart: unless-stopped, tests/security/faults-compose.test.ts)
 * is followed again from where the last stream ended, so the audit of the new process reaches the file too.
 */
async function follow(container: { logs(opts?: { since?: number }): Promise<NodeJS.ReadableStream> }, file: string): Promise<{ destroy(): void }> {
  writeFileSync(file, '', { mode: 0o600 });
  let stopped = false;
  let current: NodeJS.ReadableStream | undefined;
  let since: number | undefined;
  const attach = async () => {
    const stream = await container.logs(since === undefined ? undefined : { since });
    current = stream;
    if (stopped) return (stream as unknown as { destroy?: () => void }).destroy?.();
    let pending = '';
    let received = false;
    stream.on('data', (chunk: string | Buffer) => {
      received = true;
      pending += chunk.toString();
      const cut = pending.lastIndexOf('\n') + 1;
      if (cut === 0) return;
      appendFileSync(file, pending.slice(0, cut));
      pending = pending.slice(cut);
    });
    stream.on('error', () => undefined); // the container went away (stop): the file keeps what arrived
    stream.on('end', () => {
      if (stopped) return;
      // Seconds with a fraction (the engine's `since` takes them): what came before this moment is in the file.
      if (received || since === undefined) since = Date.now() / 1000;
      setTimeout(() => void attach().catch(() => undefined), 500).unref();
    });
  };
  await attach();
  return {
    destroy: () => {
      stopped = true;
      (current as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    },
  };
}

/**
 * Starting and supervising the stack's processes: each tier runs as a child with its own log file,
 * optionally inside a network namespace, and is waited on by health probes rather than by sleeps.
 */
import { spawn, execFile } from 'node:child_process';
import { openSync, closeSync, readFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Service {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves with how the process ended: its exit code, or the signal that killed it (for restart logs). */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after graceMs; kills the whole process group (e.g. kc.sh → java). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** The last lines of the log, for failure messages. */
  tail(lines?: number): string;
}

export interface ServiceOptions {
  name: string;
  command: string;
  args: string[];
  /** Added to a minimal inherited environment (PATH, HOME, LANG, JAVA_HOME). Secrets go here, never in args. */
  env?: Record<string, string>;
  cwd?: string;
  /** Run inside this network namespace (`ip netns exec`), or on the host when null. */
  netns?: string | null;
  logFile: string;
}

/**
 * Every tier writes keys, secrets, tokens, identities or request lines somewhere (Keycloak's H2 database holds
 * the realm's signing key), and third-party tiers create their files with the mode the umask allows. So each
 * child is started under umask 077: whatever it creates is its owner's alone. A child inherits the umask at
 * fork time, which spawn/execFile do synchronously, so it is set around the call and restored after.
 */
export const TIER_UMASK = 0o077;

export function withTierUmask<T>(fork: () => T): T {
  const previous = process.umask(TIER_UMASK);
  try {
    return fork();
  } finally {
    process.umask(previous);
  }
}

/** Wraps a command so that it runs inside a network namespace. */
export function execIn(netns: string | null | undefined, command: string, args: string[]): { command: string; args: string[] } {
  return netns ? { command: 'ip', args: ['netns', 'exec', netns, command, ...args] } : { command, args };
}

// Children get only what they need from our environment: a tier must not inherit another tier's secrets.
function baseEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'JAVA_HOME', 'TMPDIR', 'NODE_EXTRA_CA_CERTS'];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k] as string]] : [])));
}

/**
 * Every service this process spawned that has not exited yet. A tier being restarted is in here before it is
 * healthy (and before the stack lists it), so a stop that races a restart can still reach it.
 */
const running = new Set<Service>();
export const runningServices = (): Service[] => [...running];

export function startService(o: ServiceOptions): Service {
  mkdirSync(dirname(o.logFile), { recursive: true, mode: 0o700 });
  const fd = openSync(o.logFile, 'a', 0o600);
  const { command, args } = execIn(o.netns, o.command, o.args);
  const child = withTierUmask(() =>
    spawn(command, args, {
      cwd: o.cwd,
      env: { ...baseEnv(), ...o.env },
      stdio: ['ignore', fd, fd],
      detached: true, // own process group, so stop() reaches grandchildren too
    }),
  );
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${o.name}: could not start ${o.command}`);
  const pid = child.pid;
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: -1, signal: null }));
  });
  const exited = ended.then((e) => e.code);
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      const killGroup = (s: NodeJS.Signals) => {
        try {
          process.kill(-pid, s);
        } catch {
          /* already gone */
        }
      };
      killGroup(signal);
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      killGroup('SIGKILL'); // stragglers left in the group after the leader exited
    })();
    return stopping;
  };
  child.unref();
  const service: Service = { name: o.name, pid, logFile: o.logFile, exited, ended, stop, tail: (n = 40) => tailFile(o.logFile, n) };
  running.add(service);
  void ended.then(() => running.delete(service));
  return service;
}

export function tailFile(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Fail fast, with its log tail, when this service exits while we wait. */
  service?: Service;
}

/** Polls `probe` until it returns a value; throws with the service's log tail on timeout or early exit. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, o: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 250, service } = o;
  const deadline = Date.now() + timeoutMs;
  let exitedWith: number | null | undefined;
  let exitedFlag = false;
  void service?.exited.then((c) => {
    exitedFlag = true;
    exitedWith = c;
  }); // `exited` never rejects
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = e;
    }
    if (exitedFlag) break;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const why = exitedFlag ? `exited with code ${exitedWith}` : `not ready after ${Math.round(timeoutMs / 1000)} s`;
  const detail = lastError instanceof Error ? ` (last probe error: ${lastError.message})` : '';
  const tail = service ? `\n--- last lines of ${service.logFile} ---\n${service.tail()}` : '';
  throw new Error(`${what} ${why}${detail}${tail}`);
}

export interface HttpProbeOptions {
  netns?: string | null;
  caFile?: string;
  timeoutMs?: number;
}

/**
 * GET `url` and report whether it answered 2xx. Inside a namespace the probe is curl run there,
 * because this process lives in the host namespace.
 */
export function httpOk(url: string, o: HttpProbeOptions = {}): Promise<boolean> {
  const secs = String(Math.max(1, Math.round((o.timeoutMs ?? 3000) / 1000)));
  const args = ['-sS', '-o', '/dev/null', '-f', '--max-time', secs, ...(o.caFile ? ['--cacert', o.caFile] : []), url];
  const { command, args: full } = execIn(o.netns, 'curl', args);
  return new Promise((resolve) => {
    execFile(command, full, (err) => resolve(!err));
  });
}

/** Runs a command to completion and returns stdout; rejects with stderr on a non-zero exit. */
export function run(command: string, args: string[], o: { netns?: string | null; input?: string; env?: Record<string, string> } = {}): Promise<string> {
  const { command: c, args: a } = execIn(o.netns, command, args);
  return new Promise((resolve, reject) => {
    const child = withTierUmask(() =>
      execFile(c, a, { env: o.env ? { ...process.env, ...o.env } : process.env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${command} ${args[0] ?? ''} failed: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      }),
    );
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}

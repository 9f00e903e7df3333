/**
 * The edge, natively: renders nginx/templates/** exactly as the official nginx image does (envsubst over a
 * declared variable list, `*.template` → `conf.d/*`), adds a minimal main nginx.conf, writes the proxy secret
 * into a 0600 include, and runs nginx in the foreground with everything under one prefix directory.
 */
import { mkdir, readFile, readdir, writeFile, appendFile, chmod, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, startService, waitFor, type Service } from './process.ts';

export const TEMPLATES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../nginx/templates');
export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';

/** Every variable the templates use; the compose service must define all of them (NGINX_ENVSUBST_FILTER). */
export const EDGE_VARIABLES = [
  'PUBLIC_BASE_URL', // https://localhost:8443 — the edge origin: resource URIs, issuer, redirects
  'PUBLIC_HOST', // localhost:8443 — Host as clients send it, forwarded to the upstreams
  'EDGE_LISTEN', // 8443 or 10.88.1.2:8443
  'EDGE_HTTP_LISTEN', // 8080 — redirects only
  'EDGE_STATUS_LISTEN', // 127.0.0.1:9404 — stub_status, loopback only (METRICS_PORTS.nginxStatus)
  'TLS_CERT', // absolute path of the edge certificate (chain)
  'TLS_KEY',
  'VERIFIER_UPSTREAM', // host:port
  'MCP_RO_UPSTREAM',
  'MCP_RW_UPSTREAM',
  'KEYCLOAK_UPSTREAM', // Keycloak's public http listener, never the management port
  'PROXY_SECRET_INCLUDE', // absolute path of the 0600 file: proxy_set_header X-MCP-Proxy-Auth "<secret>";
  'EDGE_ACCESS_LOG', // path, or /dev/stdout in a container
  'EDGE_RATE_LIMIT', // per-IP rate, e.g. 200r/s
  'EDGE_RATE_BURST', // e.g. 2000
] as const;
export type EdgeVariable = (typeof EDGE_VARIABLES)[number];
export type EdgeVars = Record<EdgeVariable, string>;

export const EDGE_DEFAULTS: Pick<EdgeVars, 'EDGE_RATE_LIMIT' | 'EDGE_RATE_BURST'> = { EDGE_RATE_LIMIT: '200r/s', EDGE_RATE_BURST: '2000' };

/**
 * envsubst semantics restricted to `names` (like the image's NGINX_ENVSUBST_FILTER): `${NAME}` and `$NAME`
 * are replaced for declared names only, so nginx's own lowercase `$variables` survive untouched.
 */
export function substitute(text: string, vars: Readonly<Record<string, string>>, names: readonly string[] = Object.keys(vars)): string {
  const declared = new Set(names);
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    if (!declared.has(name)) return whole;
    const value = vars[name];
    if (value === undefined) throw new Error(`nginx template variable ${name} has no value`);
    return value;
  });
}

// Values end up inside nginx directives: a quote, semicolon, brace or newline would let a value add directives.
function checkValue(name: string, value: string): void {
  if (!/^[A-Za-z0-9_.:/\-[\]@%+=]*$/.test(value) || value === '') throw new Error(`nginx template variable ${name} has an unsafe or empty value`);
}

async function listTemplates(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listTemplates(p)));
    else if (e.name.endsWith('.template')) out.push(p);
  }
  return out.sort();
}

/** Renders every `*.template` under templatesDir into outDir (the image's conf.d), keeping subfolders. */
export async function renderTemplates(vars: EdgeVars, outDir: string, templatesDir = TEMPLATES_DIR): Promise<string[]> {
  for (const name of EDGE_VARIABLES) checkValue(name, vars[name]);
  const written: string[] = [];
  for (const file of await listTemplates(templatesDir)) {
    const target = join(outDir, relative(templatesDir, file).replace(/\.template$/, ''));
    const text = substitute(await readFile(file, 'utf8'), vars, EDGE_VARIABLES);
    const leftover = /\$\{[A-Z_][A-Z0-9_]*\}/.exec(text);
    if (leftover) throw new Error(`${relative(templatesDir, file)}: undeclared template variable ${leftover[0]}`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text);
    written.push(target);
  }
  return written;
}

/** The include that carries the proxy credential; the secret never appears in a template or an argument. */
export async function writeProxySecretInclude(secret: string, file: string): Promise<void> {
  // Why: the value sits inside a quoted nginx string; restrict it so it can never close the quote.
  if (!/^[A-Za-z0-9._~+/=-]{16,}$/.test(secret)) throw new Error('proxy secret must be ≥16 characters of [A-Za-z0-9._~+/=-]');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `proxy_set_header X-MCP-Proxy-Auth "${secret}";\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

/**
 * nginx's logs carry request lines, addresses and subjects: created 0600 before nginx opens them (nginx
 * would create them 0644 and never change the mode of an existing file). Devices such as /dev/stdout are left alone.
 */
async function ownerOnlyLogs(files: readonly string[]): Promise<void> {
  for (const file of files) {
    if (file.startsWith('/dev/')) continue;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    await appendFile(file, '', { mode: 0o600 });
    await chmod(file, 0o600);
  }
}

/** The native-only main config: what the image's /etc/nginx/nginx.conf does, with every path in the prefix. */
export function mainConfig(prefix: string): string {
  const p = (s: string) => join(prefix, s);
  const asRoot = process.getuid?.() === 0;
  return [
    "# Generated by scripts/stack/nginx.ts (native runs only; compose uses the image's nginx.conf).",
    // Why: as root the master keeps privileges for keys and logs; workers drop to nobody.
    ...(asRoot ? ['user nobody nogroup;'] : []),
    'daemon off;',
    'worker_processes auto;',
    `pid ${p('nginx.pid')};`,
    `error_log ${p('logs/error.log')} notice;`,
    'events { worker_connections 4096; }',
    'http {',
    '    default_type application/octet-stream;',
    '    sendfile on;',
    '    keepalive_timeout 65;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `    ${t}_temp_path ${p(`temp/${t}`)};`),
    `    include ${p('conf.d')}/*.conf;`,
    '}',
    '',
  ].join('\n');
}

export interface PrepareOptions {
  prefix: string;
  /** Template variables; PROXY_SECRET_INCLUDE and EDGE_ACCESS_LOG default to files inside the prefix. */
  vars: Omit<EdgeVars, 'PROXY_SECRET_INCLUDE' | 'EDGE_ACCESS_LOG' | 'EDGE_RATE_LIMIT' | 'EDGE_RATE_BURST'> & Partial<EdgeVars>;
  /** The proxy secret itself, or a file holding it (e.g. .stack/secrets/proxy_secret). */
  proxySecret?: string;
  proxySecretFile?: string;
}

/** Writes <prefix>/nginx.conf, <prefix>/conf.d/**, <prefix>/secrets/proxy_secret.conf; returns the main config path. */
export async function prepareNginx(o: PrepareOptions): Promise<{ confFile: string; vars: EdgeVars }> {
  const prefix = resolve(o.prefix);
  await rm(join(prefix, 'conf.d'), { recursive: true, force: true });
  for (const d of ['conf.d', 'logs', 'secrets', 'temp']) await mkdir(join(prefix, d), { recursive: true });
  // Why owner-only: the prefix holds the proxy credential, the TLS key and the logs (request lines). Workers
  // (nobody) need no path in it: the master opens certificates and logs, and bodies and proxied answers stay
  // in memory (client_body_buffer_size, proxy_max_temp_file_size 0 in the template).
  await chmod(prefix, 0o700);
  const vars: EdgeVars = {
    ...EDGE_DEFAULTS,
    PROXY_SECRET_INCLUDE: join(prefix, 'secrets/proxy_secret.conf'),
    EDGE_ACCESS_LOG: join(prefix, 'logs/access.log'),
    ...o.vars,
  };
  await ownerOnlyLogs([join(prefix, 'logs/error.log'), vars.EDGE_ACCESS_LOG]);
  const secret = o.proxySecret ?? (o.proxySecretFile ? readFileSync(o.proxySecretFile, 'utf8').trim() : undefined);
  if (secret !== undefined) await writeProxySecretInclude(secret, vars.PROXY_SECRET_INCLUDE);
  else if (!existsSync(vars.PROXY_SECRET_INCLUDE)) throw new Error('nginx: no proxy secret given and PROXY_SECRET_INCLUDE does not exist');
  await renderTemplates(vars, join(prefix, 'conf.d'));
  const confFile = join(prefix, 'nginx.conf');
  await writeFile(confFile, mainConfig(prefix));
  return { confFile, vars };
}

/** `nginx -t` on the rendered configuration; rejects with nginx's own message. */
export async function testNginxConfig(prefix: string, netns?: string | null): Promise<void> {
  const p = resolve(prefix);
  await run(NGINX_BIN, ['-t', '-q', '-p', p, '-c', join(p, 'nginx.conf'), '-e', join(p, 'logs/error.log')], { netns });
}

export interface StartNginxOptions extends PrepareOptions {
  netns?: string | null;
  /** stdout/stderr of the master; nginx's own error log is <prefix>/logs/error.log. */
  logFile: string;
}

export interface Edge {
  readonly service: Service;
  readonly confFile: string;
  readonly vars: EdgeVars;
  stop(): Promise<void>;
}

/** Renders, checks (`nginx -t`) and starts nginx; resolves once the master has written its pid (sockets bound). */
export async function startNginx(o: StartNginxOptions): Promise<Edge> {
  const prefix = resolve(o.prefix);
  const { confFile, vars } = await prepareNginx(o);
  await testNginxConfig(prefix, o.netns);
  const pidFile = join(prefix, 'nginx.pid');
  await rm(pidFile, { force: true });
  const service = startService({
    name: 'nginx',
    command: NGINX_BIN,
    args: ['-p', prefix, '-c', confFile, '-e', join(prefix, 'logs/error.log')],
    netns: o.netns,
    logFile: o.logFile,
  });
  // nginx writes its pid file after it has bound every listen socket: that is "ready".
  await waitFor('nginx', async () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(service.pid), {
    timeoutMs: 15_000,
    intervalMs: 50,
    service,
  });
  // SIGTERM is nginx's fast shutdown: open SSE streams must not hold the stop up.
  return { service, confFile, vars, stop: () => service.stop('SIGTERM', 5_000) };
}

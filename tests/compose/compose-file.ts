/**
 * Reads the repository's compose files and versions.env the way Docker Compose would for static checks:
 * YAML merge keys resolved, `!reset`/`!override` tags understood, `${VAR:-default}` left as written.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, type CollectionTag, type ScalarTag } from 'yaml';
import { pinnedVersions } from '../../contract/contract.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Compose's own YAML tags (compose ≥ 2.24): the value is kept, marked so checks can tell. */
export const RESET = Symbol('!reset');
const composeTags: (ScalarTag | CollectionTag)[] = [
  { tag: '!reset', resolve: () => RESET },
  { tag: '!override', collection: 'map', resolve: (v) => v },
  { tag: '!override', collection: 'seq', resolve: (v) => v },
];

export type Service = Record<string, unknown> & {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  ports?: (string | Record<string, unknown>)[];
  networks?: string[] | Record<string, unknown>;
  network_mode?: string;
  secrets?: (string | { source: string })[];
  volumes?: (string | Record<string, unknown>)[];
  profiles?: string[];
};
export interface ComposeFile {
  [key: string]: unknown;
  services: Record<string, Service>;
  networks?: Record<string, { internal?: boolean } | null>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string; environment?: string }>;
}

export function loadCompose(file = 'compose.yaml'): ComposeFile {
  return parse(readFileSync(resolve(ROOT, file), 'utf8'), { merge: true, customTags: composeTags, maxAliasCount: 1000 }) as ComposeFile;
}

export function rawText(file: string): string {
  return readFileSync(resolve(ROOT, file), 'utf8');
}

/** versions.env as a map: the one place pinned versions live (read by the contract module). */
export const loadVersions = (): Record<string, string> => pinnedVersions();

/** The service's environment as a map, whichever of compose's two forms it uses. */
export function envOf(s: Service): Record<string, string> {
  const e = s.environment;
  if (!e) return {};
  if (Array.isArray(e)) {
    return Object.fromEntries(e.map((kv) => [kv.split('=')[0] ?? kv, kv.includes('=') ? kv.slice(kv.indexOf('=') + 1) : '']));
  }
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
}

/** `ARG NAME=default` values and `FROM` lines of a Dockerfile. */
export function parseDockerfile(file: string): { args: Record<string, string>; froms: string[]; lines: string[] } {
  const text = rawText(file).replace(/\\\n/g, ' ');
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const froms: string[] = [];
  for (const l of lines) {
    const a = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(l);
    if (a?.[1] && a[2]) args[a[1]] = a[2];
    const f = /^FROM\s+(\S+)/i.exec(l);
    if (f?.[1]) froms.push(f[1].replace(/^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/, (_, n: string) => args[n] ?? `\${${n}}`));
  }
  return { args, froms, lines };
}

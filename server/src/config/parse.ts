import { readFileSync } from 'node:fs';
import { configFields, configSchema, type Config, type ConfigKey } from './schema.ts';
import { envName, metaOf } from './fields.ts';

export type ParseOutcome = { kind: 'config'; config: Config; warnings: string[] } | { kind: 'help' } | { kind: 'error'; message: string };

type Source = { value: string; origin: string };
type ReadFile = (path: string) => string;

const keys = Object.keys(configFields) as ConfigKey[];
const byLower = new Map(keys.map((k) => [k.toLowerCase(), k]));

/** Resolves `--name`, `--nameFile` (secrets) to a config key, or null. */
function flagKey(flag: string): { key: ConfigKey; file: boolean } | null {
  const direct = byLower.get(flag.toLowerCase());
  if (direct) return { key: direct, file: false };
  if (flag.endsWith('File')) {
    const key = byLower.get(flag.slice(0, -4).toLowerCase());
    if (key && metaOf(configFields[key]).secret) return { key, file: true };
  }
  return null;
}

function readSecretFile(readFile: ReadFile, path: string, key: ConfigKey, origin: string): string {
  try {
    return readFile(path).replace(/\r?\n$/, '');
  } catch {
    throw new Error(`${key}: cannot read the file given by ${origin}`);
  }
}

function fromArgv(argv: string[], readFile: ReadFile, warnings: string[]): Map<ConfigKey, Source> | 'help' {
  const out = new Map<ConfigKey, Source>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') return 'help';
    if (!arg.startsWith('--')) throw new Error(`unexpected argument (flags are --name value)`);
    const [rawFlag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const found = flagKey(rawFlag);
    if (!found) throw new Error(`unknown option --${rawFlag} (see --help)`);
    const meta = metaOf(configFields[found.key]);
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      const takesNext = meta.kind !== 'boolean' || found.file || (next !== undefined && /^(true|false)$/i.test(next));
      if (takesNext) {
        if (next === undefined) throw new Error(`${found.key}: --${rawFlag} needs a value`);
        value = next;
        i++;
      } else value = 'true';
    }
    const origin = `--${rawFlag}`;
    if (found.file) value = readSecretFile(readFile, value, found.key, origin);
    else if (meta.secret)
      warnings.push(`warning: ${found.key} given on the command line is visible to other local users (ps); prefer ${envName(found.key)}_FILE`);
    out.set(found.key, { value, origin });
  }
  return out;
}

function fromEnv(env: NodeJS.ProcessEnv, readFile: ReadFile): Map<ConfigKey, Source> {
  const out = new Map<ConfigKey, Source>();
  for (const key of keys) {
    const name = envName(key);
    const value = env[name];
    if (value !== undefined && value !== '') out.set(key, { value, origin: name });
    else if (metaOf(configFields[key]).secret && env[`${name}_FILE`]) {
      out.set(key, { value: readSecretFile(readFile, env[`${name}_FILE`] ?? '', key, `${name}_FILE`), origin: `${name}_FILE` });
    }
  }
  return out;
}

/** Parses CLI flags over `MDB_MCP_*` env vars into one validated config; never echoes a value. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv, readFile: ReadFile = (p) => readFileSync(p, 'utf8')): ParseOutcome {
  const warnings: string[] = [];
  let sources: Map<ConfigKey, Source>;
  try {
    const cli = fromArgv(argv, readFile, warnings);
    if (cli === 'help') return { kind: 'help' };
    sources = new Map([...fromEnv(env, readFile), ...cli]);
  } catch (err) {
    return { kind: 'error', message: `invalid configuration: ${(err as Error).message}` };
  }
  const raw = Object.fromEntries([...sources].map(([k, s]) => [k, s.value]));
  const result = configSchema.safeParse(raw);
  if (result.success) return { kind: 'config', config: result.data, warnings };
  const issue = result.error.issues[0];
  const key = String(issue?.path[0] ?? 'config') as ConfigKey;
  const origin = sources.get(key)?.origin;
  return { kind: 'error', message: `invalid configuration: ${key}: ${issue?.message ?? 'invalid'}${origin ? ` (from ${origin})` : ''}` };
}

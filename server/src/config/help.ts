import { configFields, type Config, type ConfigKey } from './schema.ts';
import { envName, metaOf } from './fields.ts';

const MASK = '[redacted]';

export interface FieldDoc {
  key: ConfigKey;
  flag: string;
  env: string;
  kind: string;
  secret: boolean;
  defaultValue: string;
  description: string;
}

/** One row per schema field: the single source for `--help` and the README table. */
export function fieldDocs(): FieldDoc[] {
  return (Object.keys(configFields) as ConfigKey[]).map((key) => {
    const field = configFields[key];
    const meta = metaOf(field);
    const def = field.parse(undefined) as unknown;
    return {
      key,
      flag: `--${key}`,
      env: envName(key),
      kind: meta.kind,
      secret: meta.secret === true,
      defaultValue: Array.isArray(def) ? def.join(',') : String(def),
      description: field.description ?? '',
    };
  });
}

export function helpText(): string {
  const lines = [
    'Usage: node server/src/main.ts [--flag value ...]',
    'Every flag is also an environment variable; secrets also as <ENV>_FILE (and --<flag>File).',
    '',
  ];
  for (const d of fieldDocs()) {
    const def = d.secret ? '(secret)' : `default: ${d.defaultValue === '' ? '""' : d.defaultValue}`;
    lines.push(`  ${d.flag}  [${d.env}${d.secret ? ', ' + d.env + '_FILE' : ''}]  <${d.kind}>  ${def}`);
    lines.push(`      ${d.description}`);
  }
  return lines.join('\n');
}

/** The config with every secret masked: the only form of the config that may be printed or logged. */
export function redactConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(config) as ConfigKey[]) {
    const secret = metaOf(configFields[key]).secret === true;
    out[key] = secret && config[key] !== '' ? MASK : config[key];
  }
  return out;
}

/** Removes credentials from any text before it leaves the process (errors, audit, tool results). */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/(mongodb(?:\+srv)?:\/\/)[^@\s/]*@/gi, '$1' + MASK + '@');
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join(MASK);
  return out;
}

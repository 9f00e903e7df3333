import { z } from 'zod';

/**
 * Field builders for the one configuration schema. Each builder records in zod's global registry the
 * `kind` the CLI/env parser needs to turn a string into a value, and whether the field is `secret`
 * (redacted everywhere, readable from `<NAME>_FILE`, warned about when it appears on argv).
 */
export type FieldKind = 'boolean' | 'integer' | 'string' | 'list' | 'enum';
export interface FieldMeta {
  kind: FieldKind;
  secret?: boolean;
  [key: string]: unknown;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function toBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return value;
}

function toInteger(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
}

function toList(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function bool(defaultValue: boolean, description: string) {
  return z.preprocess(toBoolean, z.boolean('expected true or false')).default(defaultValue).describe(description).meta({ kind: 'boolean' });
}

export function integer(defaultValue: number, description: string, min: number, max: number) {
  return z
    .preprocess(toInteger, z.number('expected an integer').int('expected an integer').min(min).max(max))
    .default(defaultValue)
    .describe(description)
    .meta({ kind: 'integer' });
}

export function text(defaultValue: string, description: string) {
  return z.string().default(defaultValue).describe(description).meta({ kind: 'string' });
}

export function secret(description: string) {
  return z.string().default('').describe(description).meta({ kind: 'string', secret: true });
}

/** `items` may refine the parsed list (e.g. check each entry); its messages must not echo values. */
export function list(description: string, items: z.ZodType<string[]> = z.array(z.string())) {
  return z.preprocess(toList, items).default([]).describe(description).meta({ kind: 'list' });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number], description: string) {
  return z
    .enum(values)
    .default(defaultValue as never)
    .describe(description)
    .meta({ kind: 'enum' });
}

export function metaOf(schema: z.ZodType): FieldMeta {
  const meta = z.globalRegistry.get(schema) as FieldMeta | undefined;
  if (!meta) throw new Error('configuration field without metadata');
  return meta;
}

/** `maxTimeMS` → `MDB_MCP_MAX_TIME_MS` (not the official server's `MAX_TIME_M_S`). */
export function envName(key: string): string {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2');
  return `MDB_MCP_${snake.toUpperCase()}`;
}

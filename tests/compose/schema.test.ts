/**
 * The compose files are valid Compose Specification documents. The schema is compose-spec's
 * schema/compose-spec.json as shipped in the npm package `dclint` (a devDependency; no copy in this repo).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { loadCompose, RESET, ROOT } from './compose-file.ts';

// Why a path: dclint's package.json `exports` does not list the schema file.
const schema = JSON.parse(readFileSync(resolve(ROOT, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8')) as Record<string, unknown>;

/** Drops `!reset` keys: after compose merges the files they are simply absent. */
function withoutResets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutResets);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== RESET)
        .map(([k, v]) => [k, withoutResets(v)]),
    );
  }
  return value;
}

// Why validateSchema false: the file names draft-07 by its https URI, which Ajv registers as http.
function errorsOf(doc: unknown): string[] {
  const validate = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(schema);
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

describe('Compose Specification schema', () => {
  it('is the compose-spec schema (title and top-level keys), not some other document', () => {
    expect(schema.title).toBe('Compose Specification');
    expect(Object.keys(schema.properties as object)).toEqual(expect.arrayContaining(['services', 'networks', 'volumes', 'secrets']));
  });

  it('accepts compose.yaml', () => {
    expect(errorsOf(loadCompose('compose.yaml'))).toEqual([]);
  });

  it('accepts compose.official.yaml (the official MCP server override)', () => {
    expect(errorsOf(withoutResets(loadCompose('compose.official.yaml')))).toEqual([]);
  });

  it('rejects a service with an unknown key, so a typo in a hardening key cannot pass silently', () => {
    const doc = loadCompose('compose.yaml');
    (doc.services.proxy as Record<string, unknown>).cap_dorp = ['ALL'];
    expect(errorsOf(doc).join('\n')).toMatch(/additional/i);
  });
});

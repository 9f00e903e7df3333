import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { argsDigest, canonicalJson, createAuditSink } from '../../src/audit/audit-log.ts';
import { fieldDocs } from '../../src/config/help.ts';

describe('audit log', () => {
  it('appends one JSON line per record to a 0600 file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const file = join(dir, 'audit.jsonl');
    const sink = createAuditSink(file);
    const base = { time: 't', event: 'tool_call' as const, requestId: null, sessionId: null, subject: 's', username: 'u', agent: 'a', outcome: 'ok' as const, errorCode: null };
    sink.write({ ...base, tool: 'find' });
    sink.write({ ...base, tool: 'count' });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).tool)).toEqual(['find', 'count']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    rmSync(dir, { recursive: true });
  });

  it('digests arguments canonically (key order does not matter, values do)', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(argsDigest({ a: 1, b: 2 })).toBe(argsDigest({ b: 2, a: 1 }));
    expect(argsDigest({ a: 1 })).not.toBe(argsDigest({ a: 2 }));
  });
});

describe('server README', () => {
  it('documents every configuration field, its env var and its default', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    for (const d of fieldDocs()) {
      expect(readme).toContain(`\`--${d.key}\``);
      expect(readme).toContain(`\`${d.env}\``);
    }
  });
});

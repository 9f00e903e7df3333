import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createAuditSink } from '../../src/audit/audit-log.ts';
import { argsDigest, canonicalJson } from '../../src/audit/args-digest.ts';
import { boundRecord, FIELD_MAX_CHARS, RECORD_MAX_BYTES } from '../../src/audit/bounded-record.ts';
import { fieldDocs } from '../../src/config/help.ts';
import { toolCallRecord } from './helpers/audit-record.ts';

describe('audit log', () => {
  it('appends one JSON line per record to a 0600 file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const file = join(dir, 'audit.jsonl');
    const sink = createAuditSink(file);
    sink.write(toolCallRecord({ tool: 'find' }));
    sink.write(toolCallRecord({ tool: 'count' }));
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).tool)).toEqual(['find', 'count']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    rmSync(dir, { recursive: true });
  });

  it('tightens an existing log file to 0600 when it opens it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const file = join(dir, 'audit.jsonl');
    writeFileSync(file, '', { mode: 0o644 });
    createAuditSink(file).write(toolCallRecord());
    expect(statSync(file).mode & 0o777).toBe(0o600);
    rmSync(dir, { recursive: true });
  });

  it('writes a 900,000-character field as a bounded line that marks the cut field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const file = join(dir, 'audit.jsonl');
    createAuditSink(file).write(toolCallRecord({ namespace: 'db.' + 'c'.repeat(900_000), outcome: 'refused', errorCode: 'INVALID_ARGUMENT' }));
    const text = readFileSync(file, 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(RECORD_MAX_BYTES + 1);
    expect(JSON.parse(text).truncated).toEqual({ namespace: 900_003 });
    rmSync(dir, { recursive: true });
  });
});

describe('argument digest', () => {
  it('digests arguments canonically (key order does not matter, values do)', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(argsDigest({ a: 1, b: 2 })).toBe(argsDigest({ b: 2, a: 1 }));
    expect(argsDigest({ a: 1 })).not.toBe(argsDigest({ a: 2 }));
  });

  it('writes the same canonical JSON as JSON.stringify over sorted keys (digests of older records stay valid)', () => {
    const v = { z: [1, 'two', null, true, { y: 1.5, x: 'é\n"' }], a: { c: undefined, b: [[]] }, d: new Date(0) };
    expect(canonicalJson(v)).toBe('{"a":{"b":[[]]},"d":"1970-01-01T00:00:00.000Z","z":[1,"two",null,true,{"x":"é\\n\\"","y":1.5}]}');
    expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
  });

  it('digests a 20,000-deep value without recursion, and tells depths apart', () => {
    const nest = (depth: number) => JSON.parse('{"$and":['.repeat(depth) + '1' + ']}'.repeat(depth)) as unknown;
    const deep = nest(20_000);
    expect(() => argsDigest(deep)).not.toThrow();
    expect(argsDigest(deep)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(argsDigest(deep)).not.toBe(argsDigest(nest(19_999)));
  });

  it('gives arguments of different shapes different digests (string, array, object, absent)', () => {
    const digests = [argsDigest('{}'), argsDigest(['a']), argsDigest({ 0: 'a' }), argsDigest('a'), argsDigest(undefined), argsDigest([])];
    expect(new Set(digests).size).toBe(digests.length);
    expect(argsDigest(undefined)).toBe(argsDigest({}));
  });

  it('writes a cycle (impossible in parsed JSON) as a marker instead of looping', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(canonicalJson(a)).toBe('{"self":"[Circular]","x":1}');
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
  });
});

describe('bounded audit records', () => {
  const base = { time: '2026-01-01T00:00:00.000Z', subject: 's', outcome: 'ok', durationMs: 3 };

  it('leaves a record with short fields unchanged and unmarked', () => {
    expect(boundRecord({ ...base, namespace: 'shop.' + 'c'.repeat(255) })).toEqual({ ...base, namespace: 'shop.' + 'c'.repeat(255) });
  });

  it('cuts each long field to FIELD_MAX_CHARS and names it with its original length', () => {
    const r = boundRecord({ ...base, tool: 't'.repeat(10_000), namespace: 'n'.repeat(600) });
    expect(r.tool).toHaveLength(FIELD_MAX_CHARS);
    expect(r.namespace).toHaveLength(FIELD_MAX_CHARS);
    expect(r.truncated).toEqual({ tool: 10_000, namespace: 600 });
  });

  it('keeps the whole line under RECORD_MAX_BYTES even when escaping multiplies every field', () => {
    const ctl = '\u0001'.repeat(5_000); // six bytes of JSON each
    const r = boundRecord({ ...base, subject: ctl, username: ctl, agent: ctl, tool: ctl, namespace: ctl, sessionId: ctl });
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThanOrEqual(RECORD_MAX_BYTES);
    expect(Object.keys(r.truncated ?? {}).sort()).toEqual(['agent', 'namespace', 'sessionId', 'subject', 'tool', 'username']);
    expect(r.durationMs).toBe(3);
  });

  it('never cuts a surrogate pair in half', () => {
    const r = boundRecord({ namespace: 'a' + '😀'.repeat(FIELD_MAX_CHARS) });
    expect(r.namespace!.endsWith('😀')).toBe(true);
    expect(JSON.stringify(r)).not.toMatch(/\\ud83d"/);
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

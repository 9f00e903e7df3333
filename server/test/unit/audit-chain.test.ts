import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditSink, type AuditRecord } from '../../src/audit/audit-log.ts';
import { toolCallRecord } from './helpers/audit-record.ts';
import { RECORD_MAX_BYTES } from '../../src/audit/bounded-record.ts';
import { GENESIS, lineDigest } from '../../src/audit/chain.ts';
import { verifyChain } from '../../src/audit/verify-chain.ts';
import { createAuditSink as createVerifierSink } from '../../../nginx/verifier/src/audit.ts';

const run = promisify(execFile);
const CLI = resolve(import.meta.dirname, '../../../scripts/audit-verify.ts');

const rec = (tool: string, extra: Partial<AuditRecord> = {}): AuditRecord => toolCallRecord({ tool, ...extra });

let dir: string;
let log: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'audit-chain-'));
  log = join(dir, 'audit.log');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (f: string) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const write = (tools: string[]) => {
  const sink = createAuditSink(log);
  for (const t of tools) sink.write(rec(t));
};

/** The verify command as an operator runs it: its exit code and what it printed. */
async function cli(...files: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...files]);
    return { code: 0, out: r.stdout };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, out: err.stdout + err.stderr };
  }
}

describe('hash-chained audit log (MCP server)', () => {
  it('links every record to the digest of the line before it, from genesis, within RECORD_MAX_BYTES', async () => {
    write(['find', 'count', 'drop-collection']);
    const got = lines(log);
    expect(JSON.parse(got[0]!).prev).toBe(GENESIS);
    expect(JSON.parse(got[1]!).prev).toBe(lineDigest(got[0]!));
    expect(JSON.parse(got[2]!).prev).toBe(lineDigest(got[1]!));
    const huge = createAuditSink(log);
    huge.write(rec('find', { namespace: 'x'.repeat(900_000) }));
    expect(Buffer.byteLength(lines(log).at(-1)!)).toBeLessThanOrEqual(RECORD_MAX_BYTES);
    expect(await verifyChain([log])).toMatchObject({ ok: true, records: 4, start: 'genesis' });
  });

  it('continues the chain across a restart: the new process links to the last line already in the file', async () => {
    write(['find', 'count']);
    write(['aggregate']); // a second sink on the same path: what a restarted server opens
    const got = lines(log);
    expect(JSON.parse(got[2]!).prev).toBe(lineDigest(got[1]!));
    expect(await verifyChain([log])).toMatchObject({ ok: true, records: 3 });
  });

  it("continues the chain across rotation: the new file starts with a link to the old file's last line", async () => {
    const sink = createAuditSink(log);
    sink.write(rec('find'));
    sink.write(rec('count'));
    renameSync(log, `${log}.1`); // logrotate's move; the sink notices and opens a new file at the path
    sink.write(rec('aggregate'));
    expect(JSON.parse(lines(log)[0]!).prev).toBe(lineDigest(lines(`${log}.1`).at(-1)!));
    expect(await verifyChain([`${log}.1`, log])).toMatchObject({ ok: true, records: 3, files: 2, start: 'genesis' });
    expect(await verifyChain([log])).toMatchObject({ ok: true, records: 1, start: 'continued' });
    // Given in the wrong order, the link between the files is what breaks.
    expect(await verifyChain([log, `${log}.1`])).toMatchObject({ ok: false, file: `${log}.1`, line: 1 });
  });

  it('reports the first broken link when a line is changed, removed or inserted', async () => {
    write(['a', 'b', 'c', 'd', 'e']);
    const original = lines(log);
    const save = (ls: string[]) => writeFileSync(log, ls.join('\n') + '\n');

    save(original.map((l, i) => (i === 1 ? l.replace('"outcome":"ok"', '"outcome":"refused"') : l)));
    expect(await verifyChain([log])).toMatchObject({ ok: false, line: 3, reason: expect.stringMatching(/digest of line 2/) });

    save(original.filter((_, i) => i !== 2));
    expect(await verifyChain([log])).toMatchObject({ ok: false, line: 3 });

    save([...original.slice(0, 2), '{"event":"forged"}', ...original.slice(2)]);
    expect(await verifyChain([log])).toMatchObject({ ok: false, line: 3, reason: expect.stringMatching(/no `prev`/) });
  });

  it('accepts older records without a chain only before the first chained one, which links to the last of them', async () => {
    writeFileSync(log, '{"event":"tool_call","tool":"old1"}\n{"event":"tool_call","tool":"old2"}\n');
    write(['new1', 'new2']);
    expect(await verifyChain([log])).toMatchObject({ ok: true, records: 2, unchained: 2, start: 'after-unchained' });
    const l = lines(log);
    writeFileSync(log, [l[0], l[1]!.replace('old2', 'OLD2'), l[2], l[3]].join('\n') + '\n');
    expect(await verifyChain([log])).toMatchObject({ ok: false, line: 3 });
  });

  it('the verify command exits 0 on an intact chain, 1 with file:line of the first broken link, 2 on usage', async () => {
    write(['a', 'b', 'c']);
    const ok = await cli(log);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ok: 3 records in 1 file\(s\), chained from its first record; head sha256:[0-9a-f]{64}/);
    const l = lines(log);
    writeFileSync(log, [l[0], l[1]!.replace('"tool":"b"', '"tool":"B"'), l[2]].join('\n') + '\n');
    const bad = await cli(log);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`BROKEN ${log}:3: prev does not match the digest of line 2`);
    expect((await cli()).code).toBe(2);
    expect((await cli(join(dir, 'missing.log'))).code).toBe(2);
  });
});

describe('hash-chained audit log (verifier)', () => {
  const flush = () => new Promise((r) => setImmediate(r));

  it('chains its lines too, across a restart and a rotation, in the format the same verify command checks', async () => {
    const first = createVerifierSink(log);
    first({ outcome: 'accept', code: 'ok', route: 'ro' });
    first({ outcome: 'refuse', code: 'expired', route: 'rw' });
    await flush();
    const restarted = createVerifierSink(log);
    restarted({ outcome: 'accept', code: 'ok', route: 'ro' });
    await flush();
    renameSync(log, `${log}.1`);
    restarted({ outcome: 'accept', code: 'ok', route: 'rw' });
    await flush();
    expect(JSON.parse(lines(`${log}.1`)[0]!).prev).toBe(GENESIS);
    expect(JSON.parse(lines(log)[0]!).prev).toBe(lineDigest(lines(`${log}.1`).at(-1)!));
    expect(await verifyChain([`${log}.1`, log])).toMatchObject({ ok: true, records: 4 });
  });
});

/**
 * An audit log that cannot be written makes calls fail closed (issue 16): the call does not run, or its result is
 * withheld. The full-disk case on the real server is tests/security/faults-more.test.ts; here the sink's rules on a
 * path that cannot be opened (a directory) and the dispatcher's use of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createAuditSink, type AuditSink } from '../../src/audit/audit-log.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { ToolError } from '../../src/errors.ts';
import { stdioIdentity } from '../../src/identity/identity.ts';
import { dispatchToolCall } from '../../src/tools/dispatch.ts';
import { defineTool } from '../../src/tools/tool.ts';
import { toolCallRecord as record } from './helpers/audit-record.ts';

const dir = mkdtempSync(join(tmpdir(), 'audit-fail-closed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tool that counts its runs: the proof that a refused call never ran. */
function countingTool() {
  const runs = { n: 0 };
  const tool = defineTool({
    name: 'probe',
    operationType: 'create',
    description: 'counts its runs',
    input: z.object({}),
    async execute() {
      runs.n++;
      return { text: 'ran', documents: 1 };
    },
  });
  return { tool, runs };
}

const call = { name: 'probe', args: {}, identity: { ...stdioIdentity(), scopes: ['mcp:read', 'mcp:write'] }, sessionId: undefined };

describe('an audit log that cannot be written', () => {
  // A directory where the file should be: every open fails, as a full or broken disk would make writes fail.
  const broken = createAuditSink(dir);

  it('throws AUDIT_UNAVAILABLE for the record of something that ran', () => {
    expect(() => broken.write(record({ outcome: 'ok' }))).toThrow(expect.objectContaining({ code: 'AUDIT_UNAVAILABLE' }));
    expect(() => broken.write(record({ outcome: 'error', errorCode: 'DB_ERROR' }))).toThrow(ToolError);
  });

  it('loses the record of a refusal without throwing: nothing ran, and the refusal must still reach the caller', () => {
    expect(() => broken.write(record({ outcome: 'refused', errorCode: 'READ_ONLY' }))).not.toThrow();
    expect(() => broken.write(record({ outcome: 'error', errorCode: 'AUDIT_UNAVAILABLE' }))).not.toThrow();
    expect(() => broken.write(record({ event: 'http_refused', outcome: 'refused', errorCode: 'SESSION_NOT_FOUND' }))).not.toThrow();
  });

  it('is reported not ready, so a call is refused before it runs', () => {
    expect(() => broken.ready!()).toThrow(expect.objectContaining({ code: 'AUDIT_UNAVAILABLE' }));
  });

  it('makes the dispatcher refuse the call with AUDIT_UNAVAILABLE without running the tool', async () => {
    const { tool, runs } = countingTool();
    const result = await dispatchToolCall(call, { client: {} as never, config: defaultConfig(), audit: broken, tools: [tool] });
    expect(runs.n).toBe(0);
    expect(result).toMatchObject({ isError: true, structuredContent: { error: { code: 'AUDIT_UNAVAILABLE' } } });
  });

  it('withholds the result of a call whose record fails after it ran (the disk filled up meanwhile)', async () => {
    const { tool, runs } = countingTool();
    // The started record is written (the disk still had room), the end record is not.
    const failsAfter: AuditSink = { ready: () => undefined, write: (r) => (r.event === 'tool_call_started' ? undefined : broken.write(r)) };
    await expect(dispatchToolCall(call, { client: {} as never, config: defaultConfig(), audit: failsAfter, tools: [tool] })).rejects.toMatchObject({
      code: 'AUDIT_UNAVAILABLE',
    });
    expect(runs.n).toBe(1);
  });
});

describe('a write on record before it runs (a process killed mid-call leaves no end record)', () => {
  /** What a call of a tool of this operation type does, in order: its audit records and its run. */
  async function callRecords(operationType: 'create' | 'read'): Promise<string[]> {
    const seen: string[] = [];
    const tool = defineTool({
      name: 'probe',
      operationType,
      description: 'notes when it runs',
      input: z.object({}),
      async execute() {
        seen.push('run');
        return { text: 'ran', documents: 1 };
      },
    });
    const audit: AuditSink = { ready: () => undefined, write: (r) => void seen.push(`${r.event}:${r.outcome}`) };
    await dispatchToolCall(call, { client: {} as never, config: defaultConfig(), audit, tools: [tool] });
    return seen;
  }

  it('writes tool_call_started before the tool runs, then the one tool_call record when it ends', async () => {
    expect(await callRecords('create')).toEqual(['tool_call_started:started', 'run', 'tool_call:ok']);
  });

  it('writes no started record for a read: one record per call', async () => {
    expect(await callRecords('read')).toEqual(['run', 'tool_call:ok']);
  });

  it('does not run a write whose started record cannot be written (AUDIT_UNAVAILABLE)', async () => {
    const { tool, runs } = countingTool();
    const broken = createAuditSink(dir);
    const failsAtStart: AuditSink = { ready: () => undefined, write: (r) => broken.write(r) };
    const result = await dispatchToolCall(call, { client: {} as never, config: defaultConfig(), audit: failsAtStart, tools: [tool] });
    expect(runs.n).toBe(0);
    expect(result).toMatchObject({ isError: true, structuredContent: { error: { code: 'AUDIT_UNAVAILABLE' } } });
  });
});

describe('a writable audit log', () => {
  it('is ready and writes records', () => {
    const sink = createAuditSink(join(dir, 'audit.jsonl'));
    expect(() => sink.ready!()).not.toThrow();
    expect(() => sink.write(record({}))).not.toThrow();
  });
});

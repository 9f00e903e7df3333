/**
 * The policy layer's machinery: loading (a broken file is refused with a reason, a broken reload keeps the
 * policy in force), the redaction obligation, the identity the edge asserts, and the decision point inside a
 * real MCP server (tools/list, tools/call, resources/read, audit) over the SDK's in-memory transport.
 */
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { PolicyEngine } from '../../src/policy/engine.ts';
import { PolicyLoadError } from '../../src/policy/policy-set.ts';
import { applyRedaction, mentions, UNENFORCEABLE_RULE } from '../../src/policy/redact.ts';
import { PolicyDenied } from '../../src/policy/denied.ts';
import { ALL_TOOLS } from '../../src/tools/registry.ts';
import { isWriteOperation } from '../../src/tools/tool.ts';
import { identityFromHeaders } from '../../src/identity/headers.ts';
import { createServer } from '../../src/server.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { memoryAuditSink } from '../../src/audit/audit-log.ts';
import type { Identity } from '../../src/identity/identity.ts';
import { WRITE_TOOLS } from '../../../contract/contract.ts';
import { principalTypeOf } from '../../../nginx/verifier/src/http/principal.ts';
import { errorCodeOf, textOf, unconnectedMongo } from './helpers/in-memory.ts';
import { CALLERS } from './helpers/policy-callers.ts';

const POLICIES = resolve(import.meta.dirname, '../../../policies');
const ROOT = resolve(import.meta.dirname, '../../..');
const tool = (name: string) => ALL_TOOLS.find((t) => t.name === name)!;
const load = (text: string) => () => PolicyEngine.fromText(text, ALL_TOOLS, true);

describe('loading a policy file', () => {
  it.each([
    [
      'a syntax error, with its line',
      '@id("a") permit (principal, action, resource);\n@id("b") permit (principal, action, resource) when { principal.x = };',
      /line 2/,
    ],
    ['an unknown entity type', '@id("a") permit (principal is Mcp::Robot, action, resource);', /Robot/],
    ['an unknown attribute (strict validation)', '@id("a") permit (principal, action, resource) when { principal.department == "x" };', /department/],
    ['an unknown tool', '@id("a") permit (principal, action == Mcp::Action::"connect", resource);', /connect/],
    ['a policy without @id', 'permit (principal, action, resource);', /needs @id/],
    ['a duplicate @id', '@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);', /duplicate/],
    ['an unknown annotation', '@id("a") @obligation("x") permit (principal, action, resource);', /unknown annotation/],
    ['an obligation on a forbid', '@id("a") @redact("email") forbid (principal, action, resource);', /no obligation/],
    ['a @redact that is not a field list', '@id("a") @redact("$where") permit (principal, action, resource);', /field names/],
    ['an empty file', '// nothing\n', /no policy/],
  ])('refuses %s', (_name, text, why) => {
    expect(load(text)).toThrow(PolicyLoadError);
    expect(load(text)).toThrow(why);
  });

  it('loads both shipped files', () => {
    expect(PolicyEngine.fromFile(`${POLICIES}/mcp-ro.cedar`, ALL_TOOLS, true).ruleIds).toContain('machine-never-customers');
    expect(PolicyEngine.fromFile(`${POLICIES}/mcp-rw.cedar`, ALL_TOOLS, false).ruleIds).toContain('writer-drop-needs-approval');
  });

  it('reloads a changed file, and keeps the policy in force when the new file is broken', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    const file = join(dir, 'p.cedar');
    writeFileSync(file, '@id("all") permit (principal, action, resource);');
    const engine = PolicyEngine.fromFile(file, ALL_TOOLS, true);
    const req = {
      identity: CALLERS.machine,
      tool: tool('find'),
      resource: { kind: 'collection', db: 'shop', coll: 'customers' },
      indirect: false,
      stage: '',
      writes: false,
    } as const;
    expect(engine.decide(req).allowed).toBe(true);
    writeFileSync(file, '@id("all") permit (principal, action, resource);\n@id("no") forbid (principal is Mcp::Machine, action, resource);');
    expect(engine.reload()).toEqual({ ok: true, rules: 2 });
    expect(engine.decide(req)).toMatchObject({ allowed: false, rule: 'no' });
    writeFileSync(file, 'this is not cedar');
    expect(engine.reload()).toMatchObject({ ok: false });
    expect(engine.decide(req)).toMatchObject({ allowed: false, rule: 'no' });
  });

  it('makes the server exit 2 at start-up on a broken policy file, before connecting anywhere', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    writeFileSync(join(dir, 'bad.cedar'), '@id("a") permit (principal is Mcp::Nobody, action, resource);');
    const r = spawnSync(process.execPath, [join(ROOT, 'server/src/main.ts')], {
      env: { PATH: process.env.PATH, MDB_MCP_CONNECTION_STRING: 'mongodb://127.0.0.1:9', MDB_MCP_POLICY_FILE: join(dir, 'bad.cedar') },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid configuration: policyFile: .*Nobody/);
  });

  it('reloads the policy on SIGHUP in the real server process, and keeps it when the new file is broken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-'));
    const file = join(dir, 'p.cedar');
    writeFileSync(file, '@id("one") permit (principal, action, resource);');
    // The database is unreachable: the server waits up to serverSelectionTimeoutMS (10 s) with its handler installed.
    const child = spawn(process.execPath, [join(ROOT, 'server/src/main.ts')], {
      env: { PATH: process.env.PATH, MDB_MCP_CONNECTION_STRING: 'mongodb://127.0.0.1:9', MDB_MCP_POLICY_FILE: file },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const until = async (re: RegExp) => {
      for (let i = 0; i < 100 && !re.test(err); i++) await new Promise((r) => setTimeout(r, 50));
      return err;
    };
    try {
      expect(await until(/policy loaded: 1 rules/)).toMatch(/policy loaded: 1 rules/);
      writeFileSync(file, '@id("one") permit (principal, action, resource);\n@id("two") forbid (principal, action, resource);');
      child.kill('SIGHUP');
      expect(await until(/policy reloaded: 2 rules/)).toMatch(/policy reloaded: 2 rules/);
      writeFileSync(file, 'not cedar');
      child.kill('SIGHUP');
      expect(await until(/reload failed/)).toMatch(/policy reload failed, previous policy kept: /);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe('the redaction obligation', () => {
  const fields = ['name', 'email', 'address'];
  const set = new Set(fields);

  it('prepends $unset to a pipeline, so that no stage ever sees the fields', () => {
    const args = applyRedaction(tool('aggregate'), { database: 'shop', collection: 'customers', pipeline: [{ $group: { _id: '$email' } }] }, fields, 'r');
    expect(args.pipeline).toEqual([{ $unset: fields }, { $group: { _id: '$email' } }]);
  });

  it('prepends $unset inside an explained pipeline too', () => {
    const args = applyRedaction(
      tool('explain'),
      { database: 'shop', collection: 'customers', method: [{ name: 'aggregate', arguments: { pipeline: [] } }] },
      fields,
      'r',
    );
    expect(args.method).toEqual([{ name: 'aggregate', arguments: { pipeline: [{ $unset: fields }] } }]);
  });

  it('turns a find projection into an exclusion of the fields, or keeps a plain inclusion that names none', () => {
    expect(applyRedaction(tool('find'), { filter: {} }, fields, 'r').projection).toEqual({ name: 0, email: 0, address: 0 });
    expect(applyRedaction(tool('find'), { filter: {}, projection: { tier: 0 } }, fields, 'r').projection).toEqual({ tier: 0, name: 0, email: 0, address: 0 });
    expect(applyRedaction(tool('find'), { filter: {}, projection: { tier: 1, _id: 0 } }, fields, 'r').projection).toEqual({ tier: 1, _id: 0 });
  });

  it.each([
    ['a filter on a redacted field', { filter: { email: { $regex: '^a' } } }],
    ['a dotted path into one', { filter: { 'address.city': 'Cork' } }],
    ['an expression reading one', { filter: { $expr: { $gt: [{ $strLenCP: '$name' }, 3] } } }],
    ['$getField of one', { filter: { $expr: { $eq: [{ $getField: 'email' }, 'x'] } } }],
    ['the whole document', { filter: { $expr: { $gt: [{ $size: { $objectToArray: '$$ROOT' } }, 1] } } }],
    ['a sort by one', { filter: {}, sort: { email: 1 } }],
    ['an inclusion of one', { filter: {}, projection: { email: 1 } }],
  ])('refuses find with %s (a count of matches would leak it)', (_name, args) => {
    expect(() => applyRedaction(tool('find'), args, fields, 'r')).toThrow(PolicyDenied);
  });

  it('refuses a computed find projection (use aggregate) and any write tool', () => {
    expect(() => applyRedaction(tool('find'), { filter: {}, projection: { t: { $toUpper: '$tier' } } }, fields, 'r')).toThrow(UNENFORCEABLE_RULE);
    expect(() => applyRedaction(tool('update-many'), { filter: {}, update: {} }, fields, 'r')).toThrow(UNENFORCEABLE_RULE);
  });

  it('refuses count with a query naming a field, and passes one that does not', () => {
    expect(() => applyRedaction(tool('count'), { query: { email: 'x' } }, fields, 'r')).toThrow(PolicyDenied);
    expect(applyRedaction(tool('count'), { query: { country: 'DE' } }, fields, 'r')).toEqual({ query: { country: 'DE' } });
  });

  it('finds a field anywhere, and nothing in unrelated values', () => {
    expect(mentions({ a: [{ b: '$$CURRENT.email' }] }, set)).toBe(true);
    expect(mentions({ country: 'DE', tier: { $in: ['gold'] } }, set)).toBe(false);
  });
});

describe('the identity the edge asserts', () => {
  it('reads realm roles and the principal type, and ignores an unknown type', () => {
    const id = identityFromHeaders({ 'x-auth-subject': 's', 'x-auth-roles': 'mcp-reader mcp-writer', 'x-auth-principal-type': 'machine' }, undefined);
    expect(id).toMatchObject({ roles: ['mcp-reader', 'mcp-writer'], principalType: 'machine' });
    expect(identityFromHeaders({ 'x-auth-principal-type': 'admin' }, undefined).principalType).toBeUndefined();
  });

  it('calls a token machine only when it is the service-account user of the client it was issued to', () => {
    expect(principalTypeOf({ preferred_username: 'service-account-mcp-service-agent' } as never, 'mcp-service-agent')).toBe('machine');
    expect(principalTypeOf({ preferred_username: 'service-account-mcp-service-agent' } as never, 'mcp-agent')).toBe('person');
    expect(principalTypeOf({ preferred_username: 'analyst' } as never, 'mcp-agent')).toBe('person');
  });

  it("the contract's write tools, which the verifier's Mcp-Name pre-filter refuses, are exactly the server's", () => {
    expect([...WRITE_TOOLS].sort()).toEqual(
      ALL_TOOLS.filter((t) => isWriteOperation(t.operationType))
        .map((t) => t.name)
        .sort(),
    );
  });
});

async function serve(identity: Identity, file = 'mcp-rw.cedar', readOnly = false) {
  const config = defaultConfig({ readOnly });
  const audit = memoryAuditSink();
  const mongo = unconnectedMongo();
  const policy = PolicyEngine.fromFile(`${POLICIES}/${file}`, ALL_TOOLS, readOnly);
  const server = createServer(config, { client: mongo, audit, defaultIdentity: identity, policy });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: 'policy-unit', version: '1.0.0' });
  await client.connect(a);
  return { client, audit, close: async () => (await client.close(), await server.close(), await mongo.close()) };
}

describe('the decision point inside the MCP server', () => {
  it('lists each caller only the tools it may use, and the resource views with them', async () => {
    const m = await serve(CALLERS.machine);
    const names = (await m.client.listTools()).tools.map((t) => t.name);
    expect(names).toContain('find');
    expect(names).not.toContain('insert-many');
    expect((await m.client.listResourceTemplates()).resourceTemplates).toHaveLength(2);
    await m.close();
    const n = await serve(CALLERS.nobody);
    expect((await n.client.listTools()).tools).toEqual([]);
    expect((await n.client.listResourceTemplates()).resourceTemplates).toEqual([]);
    await n.close();
  });

  it("refuses a machine's $lookup from customers with POLICY_DENIED before the database, and audits the rule", async () => {
    const m = await serve(CALLERS.machine);
    const r = await m.client.callTool({
      name: 'aggregate',
      arguments: { database: 'shop', collection: 'orders', pipeline: [{ $lookup: { from: 'customers', localField: 'c', foreignField: '_id', as: 'c' } }] },
    });
    expect(errorCodeOf(r)).toBe('POLICY_DENIED');
    expect(textOf(r)).toContain('machine-never-customers');
    expect(m.audit.records.at(-1)).toMatchObject({ tool: 'aggregate', outcome: 'refused', errorCode: 'POLICY_DENIED', policyRule: 'machine-never-customers' });
    await m.close();
  });

  it("refuses a machine's resources/read of a customers view with POLICY_DENIED", async () => {
    const m = await serve(CALLERS.machine);
    await expect(m.client.readResource({ uri: 'mongodb://shop/customers/schema' })).rejects.toThrow(/POLICY_DENIED.*machine-never-customers/);
    expect(m.audit.records.at(-1)).toMatchObject({ event: 'resource_read', errorCode: 'POLICY_DENIED', policyRule: 'machine-never-customers' });
    await m.close();
  });

  it('refuses a tool hidden from a caller when it is called by name anyway', async () => {
    const m = await serve(CALLERS.analyst);
    const r = await m.client.callTool({ name: 'insert-many', arguments: { database: 'shop', collection: 'orders', documents: [{}] } });
    // The scope check answers first for a caller without mcp:write; a writer's scope without the role meets the policy.
    expect(errorCodeOf(r)).toBe('INSUFFICIENT_SCOPE');
    await m.close();
    const w = await serve({ ...CALLERS.analyst, scopes: ['mcp:read', 'mcp:write'] });
    const r2 = await w.client.callTool({ name: 'insert-many', arguments: { database: 'shop', collection: 'orders', documents: [{}] } });
    expect(errorCodeOf(r2)).toBe('POLICY_DENIED');
    expect(textOf(r2)).toContain('default-deny');
    await w.close();
  });
});

describe('Mcp-Name on any protocol revision', () => {
  it('refuses a tools/call whose Mcp-Name names another tool with HEADER_MISMATCH, audited, nothing run', async () => {
    const m = await serve({ ...CALLERS.operator, nameHint: 'find' });
    const r = await m.client.callTool({ name: 'drop-database', arguments: { database: 'shop' } });
    expect(errorCodeOf(r)).toBe('HEADER_MISMATCH');
    expect(m.audit.records.at(-1)).toMatchObject({ tool: 'drop-database', outcome: 'refused', errorCode: 'HEADER_MISMATCH' });
    await m.close();
  });

  it('refuses a resources/read whose Mcp-Name is the view tool rather than the URI', async () => {
    const m = await serve({ ...CALLERS.operator, nameHint: 'collection-schema' });
    await expect(m.client.readResource({ uri: 'mongodb://shop/orders/schema' })).rejects.toThrow(/HEADER_MISMATCH/);
    await m.close();
  });
});

describe('the shipped files', () => {
  it('mcp-rw.cedar starts with the read rules of mcp-ro.cedar, unchanged', () => {
    const body = (f: string) =>
      readFileSync(`${POLICIES}/${f}`, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith('//'));
    const ro = body('mcp-ro.cedar');
    expect(body('mcp-rw.cedar').slice(0, ro.length)).toEqual(ro);
  });
});

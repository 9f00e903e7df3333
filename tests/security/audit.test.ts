/**
 * Audit completeness: every tool call appears exactly once, with the user and the agent behind it
 * and its outcome; and no audit line anywhere carries a token, a password or a connection string.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { serviceAgentToken, userToken } from '../harness/tokens.ts';
import { connectMcp } from '../harness/mcp.ts';
import { auditWhere, readAudit } from '../harness/audit.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');

describe('the audit trail', () => {
  it('records each tool call exactly once with subject, agent and outcome — refused ones too', async (ctx) => {
    const marker = `audit-${Date.now()}`;
    const t = await userToken(m, 'analyst', 'mcp:read');
    const s = await connectMcp(m, m.resources.readOnly, t.access_token);
    const calls = [
      { name: 'find', arguments: { database: m.database.name, collection: 'orders', filter: { status: marker }, limit: 1 } },
      { name: 'count', arguments: { database: m.database.name, collection: 'orders', query: { status: marker } } },
      { name: 'aggregate', arguments: { database: m.database.name, collection: 'orders', pipeline: [{ $match: { status: marker } }, { $out: 'x' }] } },
      { name: 'drop-database', arguments: { database: m.database.name } },
    ];
    const EXPECTED: Record<string, { outcome: string; errorCode: string | null }> = {
      find: { outcome: 'ok', errorCode: null },
      count: { outcome: 'ok', errorCode: null },
      aggregate: { outcome: 'refused', errorCode: 'FORBIDDEN_STAGE' },
      'drop-database': { outcome: 'refused', errorCode: 'READ_ONLY' },
    };
    for (const c of calls) await s.client.callTool(c);
    const sessionId = s.transport.sessionId;
    expect(sessionId).toBeTruthy();
    await s.close();
    await auditWhere(m.auditLog.readOnly, (l) => l.sessionId === sessionId && l.event === 'tool_call', { min: calls.length });
    const lines = (await readAudit(m.auditLog.readOnly)).filter((l) => l.sessionId === sessionId || l.username === 'analyst');
    for (const c of calls) {
      const mine = lines.filter((l) => l.tool === c.name && l.username === 'analyst');
      expect(mine.length, c.name).toBeGreaterThanOrEqual(1);
      const last = mine.at(-1)!;
      expect(last.subject).toBeTruthy();
      expect(last.agent).toBe(m.clients.agent.id);
      expect(last.outcome, c.name).toBe(EXPECTED[c.name]?.outcome);
      expect(last.errorCode ?? null, c.name).toBe(EXPECTED[c.name]?.errorCode);
    }
    expect(lines.filter((l) => l.tool === 'aggregate').at(-1)?.outcome).toBe('refused');
    expect(lines.filter((l) => l.tool === 'drop-database').at(-1)?.outcome).toBe('refused');
    // Exactly once: each call whose marker makes its arguments unique has one record in the whole log —
    // whatever earlier runs or suites left in it (drop-database's arguments are not unique).
    const all = await readAudit(m.auditLog.readOnly);
    for (const c of calls.filter((x) => JSON.stringify(x.arguments).includes(marker))) {
      const digest = lines.filter((l) => l.sessionId === sessionId && l.tool === c.name).at(-1)?.argsDigest;
      expect(digest, c.name).toBeTruthy();
      expect(
        all.filter((l) => l.event === 'tool_call' && l.argsDigest === digest && l.tool === c.name),
        c.name,
      ).toHaveLength(1);
    }
    recordProof(ctx, {
      attack: '4 calls (2 refused) by analyst via mcp-agent',
      expected: 'each audited once with user + agent',
      observed: `${calls.length} records`,
    });
  });

  it('contains no token, password or connection string in any log line of any tier', async () => {
    const t = await serviceAgentToken(m);
    const s = await connectMcp(m, m.resources.readOnly, t.access_token);
    await s.client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
    await s.close();
    const secrets = [m.users.analyst.password, m.users.operator.password, m.clients.service.secret, m.clients.exchange.secret];
    for (const f of await readdir(m.secretsDir)) secrets.push((await readFile(join(m.secretsDir, f), 'utf8')).trim());
    const files = [...Object.values(m.auditLog), ...Object.values(m.logs ?? {})].filter((f): f is string => typeof f === 'string');
    for (const f of files) {
      const text = await readFile(f, 'utf8').catch(() => '');
      expect(text, f).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}/);
      expect(text, f).not.toMatch(/mongodb(\+srv)?:\/\/[^\s"@/]+:[^\s"@/]+@/);
      for (const secret of secrets) if (secret.length >= 12) expect(text.includes(secret), `${f} contains a secret`).toBe(false);
    }
  });
});

/**
 * A signing key deleted from Keycloak (issue #16): the last step of a rotation, or the answer to a leaked key.
 * The suite signs with keys of its own (the realm's keys are left as they are): key A signs a token, key B takes
 * over, then A's provider is DELETED through the admin API, and key B's first token — an unknown kid — makes the
 * verifier refresh its key set, as the traffic after a rotation would. Measured: how long A's token is still
 * accepted after the deletion (the verifier trusts its cached key set until that refresh and a verified token for its
 * result-cache TTL). Reported, never asserted; the test only bounds its own wait.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readAudit } from '../harness/audit.ts';
import { rawRequest } from '../harness/http.ts';
import { keycloakAdmin } from '../harness/keycloak-admin.ts';
import { currentManifest } from '../harness/manifest.ts';
import { recordProof } from '../harness/proof.ts';
import { openAndEnd, waitForHealthyStack } from '../harness/stack-health.ts';
import { serviceAgentToken } from '../harness/tokens.ts';
import { waitFor } from '../../scripts/stack/process.ts';

const m = inject('manifest');
const supervised = m.runtime === 'native' && Object.keys(m.pids ?? {}).length > 0;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const route = new URL(m.resources.readOnly).pathname;
const kidOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
const sha12 = (jwt: string) => createHash('sha256').update(jwt).digest('hex').slice(0, 12);
/** The verifier's decision on a token without opening a session: 4xx from the MCP server means accepted. */
const decide = (token: string) =>
  rawRequest(m, {
    method: 'POST',
    path: route,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
  });

describe('a signing key deleted in Keycloak', () => {
  afterAll(async () => {
    if (!supervised) return;
    await waitForHealthyStack('the stack healthy again after the key deletion');
  }, 150_000);

  it('refuses tokens of a deleted key 401 invalid_token (unknown_kid) once the next key-set refresh has dropped it, without a verifier restart', async (ctx) => {
    if (!supervised) return ctx.skip('compose runtime: the host cannot reach the Keycloak admin API');
    const api = await keycloakAdmin(m);
    if (!api) return ctx.skip('no Keycloak admin listener in the manifest');
    const verifierPid = (await currentManifest()).pids!.verifier!;
    const realmId = ((await (await api('')).json()) as { id: string }).id;
    const jwksKids = async () =>
      ((await (await fetch(`${m.keycloakInternalUrl}/realms/mcp/protocol/openid-connect/certs`)).json()) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    /** A new RS256 key provider above the realm's own keys (priority 100): it signs from now on. */
    const addKey = async (label: string, priority: number) => {
      const r = await api('/components', {
        method: 'POST',
        body: JSON.stringify({
          name: `faults-removal-${label}-${randomUUID().slice(0, 8)}`,
          providerId: 'rsa-generated',
          providerType: 'org.keycloak.keys.KeyProvider',
          parentId: realmId,
          config: { priority: [String(priority)], enabled: ['true'], active: ['true'], algorithm: ['RS256'], keySize: ['2048'] },
        }),
      });
      expect(r.status).toBe(201);
      return r.headers.get('location')!.split('/').pop()!;
    };
    const created: string[] = [];
    const deleted = new Set<string>();
    try {
      const a = await addKey('a', 5_000);
      created.push(a);
      const tokenA = (await serviceAgentToken(m)).access_token;
      expect(await jwksKids()).toContain(kidOf(tokenA));
      // A's kid is new to the verifier: accepted at once, or after its next permitted key-set refresh.
      await waitFor('the token of key A accepted', async () => (await openAndEnd(m, route, tokenA)) === 200, { timeoutMs: 45_000, intervalMs: 1_000 });
      const b = await addKey('b', 6_000);
      created.push(b);
      // Delete A: its provider and its key are gone from the realm (not disabled: nothing to restore).
      const del = await api(`/components/${a}`, { method: 'DELETE' });
      expect(del.status).toBe(204);
      deleted.add(a);
      const removedAt = Date.now();
      expect(await jwksKids()).not.toContain(kidOf(tokenA));
      const tokenB = (await serviceAgentToken(m)).access_token;
      expect(kidOf(tokenB)).not.toBe(kidOf(tokenA));
      const rightAfter = (await decide(tokenA)).status;
      // Traffic after the rotation: callers with B's tokens (an unknown kid until the refresh) and the holder of A's.
      let firstB: number | undefined;
      const refused = await waitFor(
        'the token of the deleted key refused',
        async () => {
          const sB = (await decide(tokenB)).status;
          if (sB !== 401 && firstB === undefined) firstB = Date.now() - removedAt;
          const r = await decide(tokenA);
          return r.status === 401 ? r : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1_000 },
      );
      const refusedMs = Date.now() - removedAt;
      expect(refused.status).toBe(401);
      expect(String(refused.headers['www-authenticate'])).toContain('error="invalid_token"');
      const record = await waitFor(
        'the verifier record of the refusal',
        async () => (await readAudit(m.auditLog.verifier)).findLast((l) => l.outcome === 'refuse' && l.tokenSha256 === sha12(tokenA)),
        { timeoutMs: 5_000, intervalMs: 100 },
      );
      expect(record.code).toBe('unknown_kid');
      expect((await decide(tokenB)).status).not.toBe(401);
      expect((await currentManifest()).pids!.verifier).toBe(verifierPid);
      recordProof(ctx, {
        attack:
          "sign a token with a new realm key A, rotate to key B, then DELETE key A's provider through the Keycloak admin API; keep presenting A's token while B's tokens arrive",
        expected:
          "A's token refused 401 invalid_token (verifier reason unknown_kid) once the verifier's key set is refreshed (B's unknown kid, at most one refresh per 30 s; else the 10 min key-set max age) and its 30 s result cache expired; B's tokens accepted; no verifier restart",
        observed: `right after the deletion A's token ${rightAfter === 401 ? 'already refused' : `still accepted (${rightAfter} from the MCP server: cached key set and verified token)`}; B's token accepted ${firstB === undefined ? 'never within the wait' : `${secs(firstB)} after`}; A's token 401 invalid_token / ${String(record.code)} ${secs(refusedMs)} after the deletion; verifier pid unchanged`,
      });
    } finally {
      // The realm signs with its own keys again once ours are gone.
      for (const id of created) if (!deleted.has(id)) await api(`/components/${id}`, { method: 'DELETE' }).catch(() => undefined);
    }
  }, 240_000);
});

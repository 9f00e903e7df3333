/**
 * The registration reaper's decisions (scripts/dcr/reaper.ts) against an in-memory admin API: which clients are
 * anonymous registrations, when one is old enough, what counts as used. The real Keycloak run is in
 * tests/security/registration.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AdminApi, type ClientSummary, type ReaperEvent, createReaper, isAnonymousRegistration } from '../../scripts/dcr/reaper.ts';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const registration = (n: number): ClientSummary => ({ id: uuid(n), clientId: uuid(n), publicClient: true, consentRequired: true });

/** Keycloak's admin API as far as the reaper uses it: clients, users' consents, session counts, delete. */
function fakeKeycloak(o: { clients: ClientSummary[]; consents?: string[]; sessions?: string[]; deleteStatus?: number }) {
  const clients = new Map(o.clients.map((c) => [c.id, c]));
  const deleted: string[] = [];
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
  const page = <T>(all: T[], path: string) => {
    const q = new URL(path, 'http://x').searchParams;
    const first = Number(q.get('first') ?? 0);
    return all.slice(first, first + Number(q.get('max') ?? 100));
  };
  const api: AdminApi = async (path, init = {}) => {
    const p = path.split('?')[0]!;
    if (init.method === 'DELETE') {
      const id = p.split('/')[2]!;
      if (o.deleteStatus) return new Response(null, { status: o.deleteStatus });
      if (!clients.delete(id)) return new Response(null, { status: 404 });
      deleted.push(id);
      return new Response(null, { status: 204 });
    }
    if (p === '/clients') return json(page([...clients.values()], path));
    if (p === '/users') return json(page([{ id: 'u1' }], path));
    if (p === '/users/u1/consents') return json((o.consents ?? []).map((clientId) => ({ clientId })));
    const count = /^\/clients\/([^/]+)\/(session-count|offline-session-count)$/.exec(p);
    if (count) return json({ count: count[2] === 'session-count' && o.sessions?.includes(count[1]!) ? 1 : 0 });
    return new Response(null, { status: 404 });
  };
  return { api, clients, deleted };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('which clients are anonymous registrations', () => {
  it.for([
    ['a registration as Keycloak makes it (UUID client id = internal id, public, consent)', registration(1), true],
    ['the static public client mcp-agent', { id: uuid(2), clientId: 'mcp-agent', publicClient: true, consentRequired: true }, false],
    ['a client whose chosen client id merely looks like a UUID', { id: uuid(3), clientId: uuid(4), publicClient: true, consentRequired: true }, false],
    ['a confidential client', { ...registration(5), publicClient: false }, false],
    ['a public client without consent (e.g. the account console)', { ...registration(6), consentRequired: false }, false],
    ['a bearer-only client', { ...registration(7), bearerOnly: true }, false],
  ] as const)('%s: %s', ([, client, expected]) => {
    expect(isAnonymousRegistration(client)).toBe(expected);
  });
});

describe('a sweep', () => {
  it('deletes nothing younger than the TTL, then deletes an unused registration with one log line naming only id and age', async () => {
    const kc = fakeKeycloak({ clients: [registration(1), { id: 'static', clientId: 'mcp-agent', publicClient: true, consentRequired: true }] });
    const t = clock();
    const log: ReaperEvent[] = [];
    const reaper = createReaper(kc.api, { ttlMs: 60_000, now: t.now, log: (e) => log.push(e) });
    expect((await reaper.sweep()).expired).toEqual([]);
    t.advance(59_999);
    expect((await reaper.sweep()).expired).toEqual([]);
    t.advance(1);
    expect(await reaper.sweep()).toEqual({ registrations: 1, expired: [uuid(1)], kept: [] });
    expect(kc.deleted).toEqual([uuid(1)]);
    expect(log).toEqual([{ event: 'registration_expired', client_id: uuid(1), age_s: 60, ttl_s: 60 }]);
    expect(kc.clients.has('static')).toBe(true);
  });

  it('keeps a registration a user consented to, and one with a live session, and never asks about them again', async () => {
    const kc = fakeKeycloak({ clients: [registration(1), registration(2), registration(3)], consents: [uuid(1)], sessions: [uuid(2)] });
    const t = clock();
    const log: ReaperEvent[] = [];
    const reaper = createReaper(kc.api, { ttlMs: 1_000, now: t.now, log: (e) => log.push(e) });
    await reaper.sweep();
    t.advance(1_000);
    expect(await reaper.sweep()).toEqual({ registrations: 3, expired: [uuid(3)], kept: [uuid(1), uuid(2)] });
    t.advance(10_000);
    expect(await reaper.sweep()).toEqual({ registrations: 2, expired: [], kept: [] });
    expect(log.map((e) => e.event)).toEqual(['registration_kept', 'registration_kept', 'registration_expired']);
    expect(log.slice(0, 2)).toEqual([
      { event: 'registration_kept', client_id: uuid(1), reason: 'consent' },
      { event: 'registration_kept', client_id: uuid(2), reason: 'session' },
    ]);
  });

  it('counts age from the first sweep that saw the client: a new reaper waits the full TTL again', async () => {
    const kc = fakeKeycloak({ clients: [registration(1)] });
    const t = clock();
    const first = createReaper(kc.api, { ttlMs: 1_000, now: t.now, log: () => undefined });
    await first.sweep();
    t.advance(900);
    const restarted = createReaper(kc.api, { ttlMs: 1_000, now: t.now, log: () => undefined });
    await restarted.sweep();
    t.advance(500);
    expect((await restarted.sweep()).expired).toEqual([]);
    t.advance(500);
    expect((await restarted.sweep()).expired).toEqual([uuid(1)]);
  });

  it('logs a refused delete and keeps counting; a registration the host deleted meanwhile (404) counts as gone', async () => {
    const refused = fakeKeycloak({ clients: [registration(1)], deleteStatus: 403 });
    const t = clock();
    const log: ReaperEvent[] = [];
    const reaper = createReaper(refused.api, { ttlMs: 0, now: t.now, log: (e) => log.push(e) });
    expect((await reaper.sweep()).expired).toEqual([]);
    expect(log).toEqual([{ event: 'registration_delete_failed', client_id: uuid(1), status: 403 }]);
    const gone = fakeKeycloak({ clients: [registration(2)], deleteStatus: 404 });
    expect((await createReaper(gone.api, { ttlMs: 0, now: t.now, log: () => undefined }).sweep()).expired).toEqual([uuid(2)]);
  });

  it('pages through more clients than one admin API page holds', async () => {
    const kc = fakeKeycloak({ clients: Array.from({ length: 250 }, (_, i) => registration(i)) });
    const reaper = createReaper(kc.api, { ttlMs: 0, log: () => undefined });
    expect((await reaper.sweep()).expired).toHaveLength(250);
  });
});

describe('the reaper process', () => {
  it.for([
    ['no Keycloak URL', { DCR_REAPER_CLIENT_SECRET_FILE: '/nonexistent' }, 'DCR_REAPER_KEYCLOAK_URL'],
    ['a TTL of 0', { DCR_REAPER_KEYCLOAK_URL: 'http://127.0.0.1:1', DCR_REAPER_CLIENT_SECRET_FILE: '/x', DCR_REAPER_TTL_S: '0' }, 'DCR_REAPER_TTL_S'],
    ['a non-http Keycloak URL', { DCR_REAPER_KEYCLOAK_URL: 'file:///etc/passwd', DCR_REAPER_CLIENT_SECRET_FILE: '/x' }, 'DCR_REAPER_KEYCLOAK_URL'],
  ] as const)('stops with exit 2 and one line naming the field for %s', ([, env, field]) => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../scripts/dcr/main.ts')], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`dcr-reaper: invalid configuration: ${field}:`);
  });
});

/**
 * Expires anonymous dynamic registrations (RFC 7591) nobody ever used, so an anonymous flood cannot hold the
 * realm's client cap (Keycloak's max-clients policy, 200) for long: each sweep lists the realm's clients, keeps
 * the ones a user consented to or holds a session with, and deletes the others once they are older than the TTL.
 *
 * An anonymous registration is recognised by what Keycloak makes of one under the realm's policies: a public
 * client that requires consent, whose client id is the UUID Keycloak generated (equal to its internal id; a client
 * an administrator or the realm file creates has a chosen client id). "Used" is durable: a registered client
 * cannot get a user's token without that user's consent (the "Consent required" registration policy), and the
 * consent outlives the session. Age is measured from the first sweep that saw the client (Keycloak keeps no
 * creation time for clients): a restarted reaper only ever deletes later, never earlier.
 */
export type AdminApi = (path: string, init?: RequestInit) => Promise<Response>;

export interface ClientSummary {
  id: string;
  clientId: string;
  publicClient?: boolean;
  consentRequired?: boolean;
  bearerOnly?: boolean;
}

/** One line per decision, JSON on stderr: client ids and ages only, never a token or a client's metadata. */
export type ReaperEvent =
  | { event: 'registration_expired'; client_id: string; age_s: number; ttl_s: number }
  | { event: 'registration_kept'; client_id: string; reason: 'consent' | 'session' }
  | { event: 'registration_delete_failed'; client_id: string; status: number };

export interface SweepResult {
  registrations: number;
  expired: string[];
  kept: string[];
}

export interface ReaperOptions {
  ttlMs: number;
  log: (e: ReaperEvent) => void;
  now?: () => number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PAGE = 100;

/** What anonymous registration produces under this realm's policies (see the module comment). */
export function isAnonymousRegistration(c: ClientSummary): boolean {
  return UUID.test(c.clientId) && c.clientId === c.id && c.publicClient === true && c.consentRequired === true && c.bearerOnly !== true;
}

async function json<T>(api: AdminApi, path: string): Promise<T> {
  const r = await api(path);
  if (r.status !== 200) throw new Error(`Keycloak admin API ${path.split('?')[0]} answered HTTP ${r.status}`);
  return (await r.json()) as T;
}

async function pages<T>(api: AdminApi, path: string): Promise<T[]> {
  const out: T[] = [];
  for (let first = 0; ; first += PAGE) {
    const page = await json<T[]>(api, `${path}${path.includes('?') ? '&' : '?'}first=${first}&max=${PAGE}`);
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}

/** Client ids some user of the realm has consented to (GET /users/{id}/consents for every user). */
async function consentedClients(api: AdminApi): Promise<Set<string>> {
  const users = await pages<{ id: string }>(api, '/users?briefRepresentation=true');
  const ids = new Set<string>();
  for (const u of users) {
    for (const c of await json<{ clientId: string }[]>(api, `/users/${u.id}/consents`)) ids.add(c.clientId);
  }
  return ids;
}

async function hasSession(api: AdminApi, id: string): Promise<boolean> {
  for (const kind of ['session-count', 'offline-session-count']) {
    if ((await json<{ count: number }>(api, `/clients/${id}/${kind}`)).count > 0) return true;
  }
  return false;
}

export function createReaper(api: AdminApi, o: ReaperOptions) {
  const now = o.now ?? Date.now;
  const firstSeen = new Map<string, number>();
  const used = new Set<string>();
  return {
    async sweep(): Promise<SweepResult> {
      const t = now();
      const registrations = (await pages<ClientSummary>(api, '/clients?briefRepresentation=false')).filter(isAnonymousRegistration);
      const present = new Set(registrations.map((c) => c.id));
      for (const id of firstSeen.keys()) if (!present.has(id)) firstSeen.delete(id);
      for (const c of registrations) if (!firstSeen.has(c.id)) firstSeen.set(c.id, t);
      const due = registrations.filter((c) => !used.has(c.id) && t - firstSeen.get(c.id)! >= o.ttlMs);
      const result: SweepResult = { registrations: registrations.length, expired: [], kept: [] };
      if (due.length === 0) return result;
      const consented = await consentedClients(api);
      for (const c of due) {
        const reason = consented.has(c.clientId) ? 'consent' : (await hasSession(api, c.id)) ? 'session' : undefined;
        if (reason) {
          used.add(c.id);
          result.kept.push(c.clientId);
          o.log({ event: 'registration_kept', client_id: c.clientId, reason });
          continue;
        }
        const r = await api(`/clients/${c.id}`, { method: 'DELETE' });
        // 404: gone already (the host deleted it through RFC 7592 meanwhile).
        if (r.status !== 204 && r.status !== 404) {
          o.log({ event: 'registration_delete_failed', client_id: c.clientId, status: r.status });
          continue;
        }
        const ageMs = t - firstSeen.get(c.id)!;
        firstSeen.delete(c.id);
        result.expired.push(c.clientId);
        o.log({ event: 'registration_expired', client_id: c.clientId, age_s: Math.round(ageMs / 1000), ttl_s: Math.round(o.ttlMs / 1000) });
      }
      return result;
    },
  };
}

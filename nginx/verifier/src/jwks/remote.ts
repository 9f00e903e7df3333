/**
 * Keycloak's signing keys, through jose's remote JWK Set (`createRemoteJWKSet`): one fetch at a time shared by
 * every waiting request, imported keys cached per (key, alg), a key used only with the `alg` and `use` it was
 * published for (RFC 7517 §4.2, §4.4). An unknown kid (key rotation) refetches the set at most once per
 * `refreshIntervalMs`, so forged kids cannot turn the verifier into a traffic amplifier against Keycloak.
 *
 * Around jose, and why:
 * - `cacheMaxAge: Infinity` plus a background refresh every `maxAgeMs`: with a finite max age jose refetches
 *   inside the request once the set is old, so a Keycloak outage would refuse every token. Here a failed refresh
 *   keeps the keys we have: tokens Keycloak issued before it went down stay valid until they expire.
 * - The unknown-kid refetch is ours (jose's cooldown is infinite): jose counts its cooldown from ANY fetch, so a
 *   rotation right after the background refresh or a restart's first fetch would be refused for up to 30 s. Here
 *   the interval runs from the last unknown-kid refetch only, as before jose; and after a failed fetch none for the
 *   interval (1 s before the first success), so during an outage forged kids cost Keycloak no connection attempts.
 * - A token without `kid` is refused (Keycloak always sets one; jose would try every key that fits).
 * - The optional CA (VERIFIER_CA_FILE) reaches jose's fetch through its `customFetch` hook and an undici Agent.
 * - jose's errors become the verifier's closed refusal codes (`unknown_kid`, `jwks_unavailable`).
 */
import { createRemoteJWKSet, customFetch, errors, type CryptoKey, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { Refusal } from '../errors.ts';

export interface SigningKeysOptions {
  /** Keycloak's certs endpoint (internal address). */
  url: string;
  /** Trust anchor for an https `url`. */
  ca?: string | Buffer | undefined;
  /** The least time between two unknown-kid refetches, and after a failed fetch (default 30 s). */
  refreshIntervalMs?: number;
  /** How often the set is refreshed in the background, to drop revoked keys (default 10 min). */
  maxAgeMs?: number;
  /** One fetch's deadline (default 5 s). */
  timeoutMs?: number;
  /** Wraps the fetch jose uses, e.g. to count refreshes (metrics.ts countedFetch). */
  wrapFetch?: (f: JwksFetch) => JwksFetch;
}

/** The fetch jose calls for the key set (its `customFetch` hook). */
export type JwksFetch = (url: string, init: RequestInit) => Promise<Response>;

export interface SigningKeys {
  /** jose's key-resolver shape: pass it to jwtVerify. Throws a Refusal. */
  getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey>;
  /** Loads the set ahead of the first request and starts the background refresh; a failure is only logged. */
  warm(): Promise<void>;
  /** Stops the background refresh. */
  close(): void;
}

/** Errors that mean "no usable key for this token", as opposed to "the key set could not be fetched". */
const NO_KEY = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSENotSupported];

export function remoteSigningKeys(o: SigningKeysOptions): SigningKeys {
  const intervalMs = o.refreshIntervalMs ?? 30_000;
  const dispatcher = o.ca ? new Agent({ connect: { ca: o.ca } }) : undefined;
  // undici's own fetch with its Agent: the CA applies to this one client, not to the process.
  const base: JwksFetch = dispatcher
    ? (url, init) => undiciFetch(url, { ...init, dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>
    : (url, init) => fetch(url, init);
  const set = createRemoteJWKSet(new URL(o.url), {
    timeoutDuration: o.timeoutMs ?? 5_000,
    // Both infinite: jose fetches by itself only the first time; every later fetch is one of ours, below.
    cooldownDuration: Number.POSITIVE_INFINITY,
    cacheMaxAge: Number.POSITIVE_INFINITY,
    [customFetch]: o.wrapFetch ? o.wrapFetch(base) : base,
  });
  let failedAt = Number.NEGATIVE_INFINITY;
  let unknownKidAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  const failed = (e: unknown) => {
    failedAt = Date.now();
    process.stderr.write(`verifier: JWKS refresh failed: ${e instanceof Error ? e.message : String(e)}\n`);
  };
  // jose's reload joins a fetch already under way; a success clears the failure hold-off.
  const reload = () =>
    set.reload().then(() => {
      failedAt = Number.NEGATIVE_INFINITY;
    });
  /** `fresh` never lapses with an infinite max age: it says whether a fetch has ever succeeded. */
  const loaded = () => set.fresh;
  const refusalOf = (e: unknown): Refusal => {
    if (e instanceof Refusal) return e;
    if (NO_KEY.some((c) => e instanceof c)) return new Refusal('unknown_kid');
    failed(e); // unreachable, timed out, not 200, or not a key set
    return new Refusal(loaded() ? 'unknown_kid' : 'jwks_unavailable');
  };

  return {
    async getKey(header, token) {
      if (header.kid === undefined) throw new Refusal('unknown_kid');
      // Before the first success, retry soon (Keycloak may still be starting), but at most once a second.
      if (!loaded() && !set.reloading && Date.now() - failedAt < 1_000) throw new Refusal('jwks_unavailable');
      const wasLoaded = loaded();
      try {
        return await set(header, token); // the first call fetches (shared by all callers); later ones never do
      } catch (e) {
        if (!(e instanceof errors.JWKSNoMatchingKey)) throw refusalOf(e);
        if (!wasLoaded) throw new Refusal('unknown_kid'); // the set was fetched for this very call
      }
      // An unknown kid (rotation): one refetch per interval however many arrive, none soon after a failure;
      // requests arriving while it runs wait for it.
      const now = Date.now();
      if (!set.reloading) {
        if (now - unknownKidAt < intervalMs || now - failedAt < intervalMs) throw new Refusal('unknown_kid');
        unknownKidAt = now;
      }
      try {
        await reload();
        return await set(header, token);
      } catch (e) {
        throw refusalOf(e);
      }
    },
    async warm() {
      timer ??= setInterval(() => void reload().catch(failed), o.maxAgeMs ?? 10 * 60_000).unref();
      if (!loaded()) await reload().catch(failed);
    },
    close() {
      clearInterval(timer);
      void dispatcher?.close();
    },
  };
}

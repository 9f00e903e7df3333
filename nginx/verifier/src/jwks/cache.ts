/**
 * Keycloak's signing keys, fetched once and kept: imported keys are cached per (kid, alg) so a request costs
 * one signature check and no key parsing. An unknown kid (key rotation) triggers at most one refresh per
 * `refreshIntervalMs`, so forged kids cannot turn the verifier into a traffic amplifier against Keycloak.
 */
import { importJWK, type JWK, type CryptoKey } from 'jose';
import { Refusal } from '../errors.ts';

export type JwksSource = () => Promise<JWK[]>;

export interface JwksCacheOptions {
  source: JwksSource;
  refreshIntervalMs?: number;
  /** After this age the set is refreshed in the background (keys may have been revoked). */
  maxAgeMs?: number;
  now?: () => number;
}

export class JwksCache {
  private keys = new Map<string, JWK>();
  private imported = new Map<string, Promise<CryptoKey | Uint8Array>>();
  private loadedAt = -Infinity;
  private lastAttempt = -Infinity;
  private lastUnknownKidRefresh = -Infinity;
  private inflight: Promise<void> | undefined;
  private readonly source: JwksSource;
  private readonly refreshIntervalMs: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(o: JwksCacheOptions) {
    this.source = o.source;
    this.refreshIntervalMs = o.refreshIntervalMs ?? 30_000;
    this.maxAgeMs = o.maxAgeMs ?? 10 * 60_000;
    this.now = o.now ?? Date.now;
  }

  /** The key for a token header, or a Refusal (unknown_kid, jwks_unavailable). */
  async getKey(kid: string | undefined, alg: string): Promise<CryptoKey | Uint8Array> {
    if (kid === undefined) throw new Refusal('unknown_kid');
    const now = this.now();
    if (this.loadedAt === -Infinity) {
      // Before the first success, retry sooner (Keycloak may still be starting), but at most once a second.
      if (this.inflight || now - this.lastAttempt >= 1_000) await this.refresh();
    } else if (!this.keys.has(kid)) {
      // Rotation: one refresh per interval, however many forged kids arrive.
      if (this.inflight || now - this.lastUnknownKidRefresh >= this.refreshIntervalMs) {
        if (!this.inflight) this.lastUnknownKidRefresh = now;
        await this.refresh();
      }
    } else if (now - this.loadedAt > this.maxAgeMs && now - this.lastAttempt >= this.refreshIntervalMs) {
      void this.refresh();
    }
    const jwk = this.keys.get(kid);
    if (!jwk) throw new Refusal(this.loadedAt === -Infinity ? 'jwks_unavailable' : 'unknown_kid');
    // A key published for one algorithm is never used with another (RFC 7517 §4.4); only signature keys.
    if ((jwk.alg !== undefined && jwk.alg !== alg) || (jwk.use !== undefined && jwk.use !== 'sig')) throw new Refusal('unknown_kid');
    const id = `${kid}\u0000${alg}`;
    let key = this.imported.get(id);
    if (!key) {
      key = importJWK(jwk, alg);
      this.imported.set(id, key);
      key.catch(() => this.imported.delete(id));
    }
    return key.catch(() => {
      throw new Refusal('unknown_kid');
    });
  }

  /** Loads the key set ahead of the first request; a failure is retried by the first request. */
  warm(): Promise<void> {
    return this.loadedAt === -Infinity ? this.refresh() : Promise.resolve();
  }

  /** One fetch at a time; callers arriving during a fetch share it. */
  private refresh(): Promise<void> {
    this.inflight ??= (async () => {
      this.lastAttempt = this.now();
      try {
        const list = await this.source();
        const next = new Map<string, JWK>();
        for (const k of list) if (typeof k.kid === 'string') next.set(k.kid, k);
        this.keys = next;
        this.imported = new Map(); // a kid may now name different key material
        this.loadedAt = this.now();
      } catch (e) {
        process.stderr.write(`verifier: JWKS refresh failed: ${e instanceof Error ? e.message : String(e)}\n`);
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}

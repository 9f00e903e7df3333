/**
 * Positive cache of verified tokens, keyed by the token's SHA-256 (the token itself is never a map key):
 * a session's burst of MCP calls costs one signature check. Entries live at most `ttlMs` and never past
 * the token's own `exp`; route rights are still checked on every request.
 */
import type { AccessToken } from './verify.ts';

const MAX_ENTRIES = 50_000;

export class TokenCache {
  private readonly entries = new Map<string, { token: AccessToken; until: number }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.ttlMs = Math.min(ttlMs, 30_000);
    this.now = now;
  }

  get(hash: string): AccessToken | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (this.now() >= e.until) {
      this.entries.delete(hash);
      return undefined;
    }
    return e.token;
  }

  set(hash: string, token: AccessToken): void {
    if (this.ttlMs <= 0) return;
    const until = Math.min(this.now() + this.ttlMs, token.exp * 1000);
    if (until <= this.now()) return;
    // Bounded: the oldest entry (Map keeps insertion order) goes first.
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(hash, { token, until });
  }
}

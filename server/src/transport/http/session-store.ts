import type { Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';

export interface Session {
  id: string;
  /** The caller (subject + client, callerKey) that created it: the only one it answers, the one it is charged to. */
  caller: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  lastSeen: number;
}

export interface SessionLimits {
  /** All callers together: the last resort. */
  max: number;
  /** One caller (subject + client). */
  perCaller: number;
  idleMs: number;
}

/** A place held for a session being initialized: counted at once, so parallel initializes cannot overshoot. */
export interface Reservation {
  caller: string;
  /** Gives the place back if the initialize did not create a session (idempotent). */
  release(): void;
}

/** Told of each session created and closed (metrics); `reason` as the official server names it. */
export interface SessionObserver {
  created(): void;
  closed(reason: 'transport_closed' | 'idle_timeout' | 'server_stopped'): void;
}

export type Admission =
  | { kind: 'admitted'; reservation: Reservation }
  | { kind: 'caller-limit'; retryAfterSeconds: number }
  | { kind: 'global-limit'; retryAfterSeconds: number };

/**
 * 2025-era Streamable HTTP sessions: capped per caller and in total, closed when idle, and bound to the
 * caller that created them — a session id is not a bearer credential for anyone else. The per-caller quota
 * is what keeps one identity from taking every session (issue #10, finding 3); the global cap stays as the
 * last resort against many identities.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  /** Initializes in flight, per caller. */
  readonly #pending = new Map<string, number>();
  readonly #limits: SessionLimits;
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;
  observer: SessionObserver | undefined;
  /** Standalone GET streams open, per session id (as sent: an unknown id is counted harmlessly until it closes). */
  readonly #listening = new Map<string, number>();

  constructor(limits: SessionLimits, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
    this.#sweeper = setInterval(() => void this.sweep(), Math.min(Math.max(limits.idleMs / 2, 250), 30_000));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Sessions held (and being initialized) by one caller. */
  countOf(caller: string): number {
    let n = this.#pending.get(caller) ?? 0;
    for (const s of this.#sessions.values()) if (s.caller === caller) n++;
    return n;
  }

  /**
   * Decides whether `caller` may open one more session and, if so, holds its place. Expired sessions are
   * dropped first, so a refusal is never caused by a session the sweeper merely has not reached yet, and
   * Retry-After is exact: the time until the caller's (or anyone's) least recently used session expires.
   */
  admit(caller: string): Admission {
    void this.#expire(); // closing runs in the background (#close never rejects); the places are free now
    const mine = [...this.#sessions.values()].filter((s) => s.caller === caller);
    if (mine.length + (this.#pending.get(caller) ?? 0) >= this.#limits.perCaller) {
      return { kind: 'caller-limit', retryAfterSeconds: this.#retryAfter(mine) };
    }
    const pendingTotal = [...this.#pending.values()].reduce((a, b) => a + b, 0);
    if (this.#sessions.size + pendingTotal >= this.#limits.max) {
      return { kind: 'global-limit', retryAfterSeconds: this.#retryAfter([...this.#sessions.values()]) };
    }
    this.#pending.set(caller, (this.#pending.get(caller) ?? 0) + 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      const n = (this.#pending.get(caller) ?? 1) - 1;
      if (n > 0) this.#pending.set(caller, n);
      else this.#pending.delete(caller);
    };
    return { kind: 'admitted', reservation: { caller, release } };
  }

  /** Turns a reservation into a session. */
  add(session: Omit<Session, 'lastSeen' | 'caller'>, reservation: Reservation): void {
    reservation.release();
    this.#sessions.set(session.id, { ...session, caller: reservation.caller, lastSeen: this.#now() });
    this.observer?.created();
  }

  /** The session for this id if, and only if, the same caller created it. */
  lookup(id: string, caller: string): Session | 'not-found' | 'wrong-caller' {
    const s = this.#sessions.get(id);
    if (!s) return 'not-found';
    if (s.caller !== caller) return 'wrong-caller';
    s.lastSeen = this.#now();
    return s;
  }

  /** Counts an open standalone GET stream of session `id`; the function returned ends it (idempotent). */
  listen(id: string): () => void {
    this.#listening.set(id, (this.#listening.get(id) ?? 0) + 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      const n = (this.#listening.get(id) ?? 1) - 1;
      if (n > 0) this.#listening.set(id, n);
      else this.#listening.delete(id);
    };
  }

  /** Whether session `id` may have a standalone stream open (counted from before its GET is routed). */
  listening(id: string | undefined): boolean {
    return id !== undefined && this.#listening.has(id);
  }

  delete(id: string): void {
    if (this.#sessions.delete(id)) this.observer?.closed('transport_closed');
  }

  async sweep(): Promise<void> {
    await Promise.all(this.#expire());
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((s) => this.#close(s, 'server_stopped')));
  }

  /** Removes idle sessions at once (their places are free from now) and closes them in the background. */
  #expire(): Promise<void>[] {
    const cutoff = this.#now() - this.#limits.idleMs;
    const closing: Promise<void>[] = [];
    for (const s of [...this.#sessions.values()]) if (s.lastSeen < cutoff) closing.push(this.#close(s, 'idle_timeout'));
    return closing;
  }

  #retryAfter(held: Session[]): number {
    if (held.length === 0) return 1; // only initializes in flight: they finish (or fail) within moments
    const oldest = Math.min(...held.map((s) => s.lastSeen));
    return Math.max(1, Math.ceil((oldest + this.#limits.idleMs - this.#now()) / 1000));
  }

  async #close(s: Session, reason: 'idle_timeout' | 'server_stopped'): Promise<void> {
    if (this.#sessions.delete(s.id)) this.observer?.closed(reason);
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  }
}

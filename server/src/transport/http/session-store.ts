import type { Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';

export interface Session {
  id: string;
  subject: string;
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  lastSeen: number;
}

/**
 * 2025-era Streamable HTTP sessions: capped in number, closed when idle, and bound to the subject
 * that created them — a session id is not a bearer credential for anyone else.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #max: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(max: number, idleMs: number, now: () => number = Date.now) {
    this.#max = max;
    this.#idleMs = idleMs;
    this.#now = now;
    this.#sweeper = setInterval(() => void this.sweep(), Math.min(Math.max(idleMs / 2, 250), 30_000));
    this.#sweeper.unref();
  }

  get size(): number {
    return this.#sessions.size;
  }

  isFull(): boolean {
    return this.#sessions.size >= this.#max;
  }

  add(session: Omit<Session, 'lastSeen'>): void {
    this.#sessions.set(session.id, { ...session, lastSeen: this.#now() });
  }

  /** The session for this id if, and only if, the same subject created it. */
  lookup(id: string, subject: string): Session | 'not-found' | 'wrong-subject' {
    const s = this.#sessions.get(id);
    if (!s) return 'not-found';
    if (s.subject !== subject) return 'wrong-subject';
    s.lastSeen = this.#now();
    return s;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  async sweep(): Promise<void> {
    const cutoff = this.#now() - this.#idleMs;
    for (const s of [...this.#sessions.values()]) if (s.lastSeen < cutoff) await this.#close(s);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((s) => this.#close(s)));
  }

  async #close(s: Session): Promise<void> {
    this.#sessions.delete(s.id);
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  }
}

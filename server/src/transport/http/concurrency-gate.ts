/**
 * How many HTTP requests each caller (subject + client) and all callers together may have in flight. Over
 * the limit a request is refused at once (429 / 503 with Retry-After), not queued: a queue would hold the
 * request's body and socket and turn a flood into everyone's latency — the very symptom of issue #10,
 * finding 4 — while a refusal costs nothing, is audited, and tells the agent when to retry.
 */
export type Entry = { kind: 'entered'; leave: () => void } | { kind: 'caller-busy' } | { kind: 'server-busy' };

export class ConcurrencyGate {
  readonly #perCaller: number;
  readonly #total: number;
  readonly #inFlight = new Map<string, number>();
  #all = 0;

  constructor(perCaller: number, total: number) {
    this.#perCaller = perCaller;
    this.#total = total;
  }

  get inFlight(): number {
    return this.#all;
  }

  /** Takes a place for `caller`; `leave` gives it back (idempotent: call it from every way a request can end). */
  enter(caller: string): Entry {
    const mine = this.#inFlight.get(caller) ?? 0;
    // The caller's own limit first: a caller at its quota is told so even when the server is also full.
    if (mine >= this.#perCaller) return { kind: 'caller-busy' };
    if (this.#all >= this.#total) return { kind: 'server-busy' };
    this.#inFlight.set(caller, mine + 1);
    this.#all++;
    let inside = true;
    return {
      kind: 'entered',
      leave: () => {
        if (!inside) return;
        inside = false;
        this.#all--;
        const n = (this.#inFlight.get(caller) ?? 1) - 1;
        if (n > 0) this.#inFlight.set(caller, n);
        else this.#inFlight.delete(caller);
      },
    };
  }
}

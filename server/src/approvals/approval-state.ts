import { randomBytes, randomUUID } from 'node:crypto';
import { createRequestStateCodec, type ServerContext } from '@modelcontextprotocol/server';
import type { Identity } from '../identity/identity.ts';

/** The one call an approval state may approve: this tool, with arguments of this digest, for this caller. */
export interface ApprovalBinding {
  tool: string;
  digest: string;
  caller: Identity;
}

/** What a state carries, signed: the call it names, its single-use id and its expiry (unix seconds). */
interface SealedApproval {
  tool: string;
  digest: string;
  nonce: string;
  exp: number;
}

/**
 * Why a state is refused. `forged`: not minted by this process (altered, made up, or from before a restart);
 * `expired`: older than its time to live; `mismatch`: minted for another tool, arguments or caller;
 * `replayed`: already answered once.
 */
export type StateCheck = { ok: true } | { ok: false; why: 'forged' | 'expired' | 'mismatch' | 'replayed' };

/** The codec's `mint` wants a context only to call `bind`, which here reads the caller from its closure. */
const NO_CTX = {} as ServerContext;

/** The caller a state is bound to: the asserted subject and the client (agent) acting for it. */
const callerOf = (id: Identity) => JSON.stringify([id.subject, id.clientId]);

/**
 * The integrity of the 2026-07-28 approval round trip (`input_required` → retry with the answer). The
 * `requestState` a server hands out comes back from the client as attacker-controlled input (MCP spec,
 * basic/patterns/mrtr: "MUST protect its integrity"), so it is sealed with the SDK's HMAC-SHA256 codec under
 * a key that lives only in this process's memory (32 random bytes, never written, never logged), carries a
 * short expiry, an HMAC tag of the caller (the codec's `bind`, never the raw identity) and, signed in clear,
 * the tool and argument digest it approves. A state is good for one answer: its nonce is remembered until it
 * expires. A state from another process or before a restart does not verify, and the call is asked again.
 */
export class ApprovalStates {
  readonly #key: Uint8Array;
  /** Nonces already answered, with their expiry (unix seconds): forgotten once the state could not verify anyway. */
  readonly #used = new Map<string, number>();

  constructor(key: Uint8Array = randomBytes(32)) {
    this.#key = key;
  }

  #codec(caller: Identity, ttlSeconds = 1) {
    return createRequestStateCodec<SealedApproval>({ key: this.#key, ttlSeconds, bind: () => callerOf(caller) });
  }

  /** A state approving exactly `b`, valid for `ttlSeconds`. */
  mint(b: ApprovalBinding, ttlSeconds: number): Promise<string> {
    const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
    return this.#codec(b.caller, ttlSeconds).mint({ tool: b.tool, digest: b.digest, nonce: randomUUID(), exp }, NO_CTX);
  }

  /** Checks an echoed state against the call it comes back with, and spends it when it is good. */
  async check(state: string, b: ApprovalBinding): Promise<StateCheck> {
    let sealed: SealedApproval;
    try {
      sealed = await this.#codec(b.caller).verify(state, NO_CTX);
    } catch (e) {
      // The codec's reasons: malformed, mac, expired, bind (another caller).
      const reason = (e as Error).message;
      return { ok: false, why: reason === 'expired' ? 'expired' : reason === 'bind' ? 'mismatch' : 'forged' };
    }
    if (sealed.tool !== b.tool || sealed.digest !== b.digest) return { ok: false, why: 'mismatch' };
    const now = Math.floor(Date.now() / 1000);
    for (const [nonce, exp] of this.#used) if (exp < now) this.#used.delete(nonce);
    if (typeof sealed.nonce !== 'string' || this.#used.has(sealed.nonce)) return { ok: false, why: 'replayed' };
    this.#used.set(sealed.nonce, sealed.exp);
    return { ok: true };
  }
}

/** This process's states: one key for every server instance (the 2026-07-28 path builds one per request). */
export const approvalStates = new ApprovalStates();

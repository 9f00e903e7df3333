import { AsyncLocalStorage } from 'node:async_hooks';
import { ToolError } from '../errors.ts';

/**
 * The byte budget of the answer to ONE HTTP request, shared by every message that request carries (a
 * JSON-RPC batch included). Tools charge it while they serialise, so a result that would not fit stops
 * being built at the limit instead of being built in full and measured afterwards; the HTTP tier measures
 * the final bytes again before they leave (JSON escaping can only grow the text).
 */
export class ResponseBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` from the budget; false (and nothing taken) when they do not fit. */
  charge(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  exceeded(): ToolError {
    return new ToolError('RESPONSE_TOO_LARGE', responseTooLargeMessage(this.limit));
  }
}

export function responseTooLargeMessage(limit: number): string {
  return `the answer to this HTTP request would exceed maxResponseBytes=${limit}; narrow the query (projection, filter, limit) or paginate`;
}

const current = new AsyncLocalStorage<ResponseBudget>();

/** Runs `fn` (and everything it starts, the tool handlers included) under `budget`. */
export function withResponseBudget<T>(budget: ResponseBudget, fn: () => T): T {
  return current.run(budget, fn);
}

/** The budget of the HTTP request being served, or undefined (stdio, in-process tests): no shared budget. */
export function currentResponseBudget(): ResponseBudget | undefined {
  return current.getStore();
}

/**
 * Bytes `text` takes once embedded in a JSON string, as the result travels: every `"` and `\` gains a
 * backslash. Text made by JSON/EJSON.stringify holds no raw control characters (they are already escaped).
 * A counting loop, not JSON.stringify(text), so measuring does not copy the text.
 */
export function wireBytes(text: string): number {
  let extra = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) extra++;
    else if (c < 0x20) extra += 5;
  }
  return Buffer.byteLength(text) + extra;
}

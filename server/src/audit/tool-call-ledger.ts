import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type AuthInfo,
  type JSONRPCMessage,
  type RequestId,
  type Server,
  type Transport,
} from '@modelcontextprotocol/server';

/** A tools/call request as the transport delivered it, before the SDK validated anything. */
export interface ToolCallAttempt {
  params: unknown;
  authInfo: AuthInfo | undefined;
  sessionId: string | undefined;
  /** performance.now() when it arrived. */
  received: number;
}

/** HTTP requests whose tools/call a server instance's transport delivered (so the ledger audits it). */
const delivered = new WeakSet<Request>();

/** Whether a tools/call in this HTTP request reached a server instance (see auditUndeliveredToolCall). */
export function deliveredToServer(request: Request): boolean {
  return delivered.has(request);
}

/** The JSON-RPC error code the protocol layer answered with; null when it sends no answer at all (dropped). */
export type Unanswered = (attempt: ToolCallAttempt, rpcCode: number | null) => void;

/**
 * The SDK validates `tools/call` params before any handler runs: `arguments` as a string or an array,
 * or no `name`, is answered -32602 and our dispatcher (which audits) never sees it. The ledger watches
 * the transport itself — every tools/call request it delivers, every answer the server sends back — and
 * hands each attempt that never reached the dispatcher to `onUnanswered` when its answer leaves (or when
 * the connection closes without one), so every attempt, well-formed or not, leaves exactly one record.
 * Works for every transport the server is connected to: stdio, sessionful and per-request HTTP.
 */
export class ToolCallLedger {
  /** Attempts not yet taken by the dispatcher nor answered, oldest first per JSON-RPC id. */
  readonly #open = new Map<RequestId, ToolCallAttempt[]>();
  readonly #onUnanswered: Unanswered;

  constructor(onUnanswered: Unanswered) {
    this.#onUnanswered = onUnanswered;
  }

  /** Observes every transport `server` is connected to from now on (the SDK connects through `connect`). */
  attach(server: Server): void {
    const connect = server.connect.bind(server);
    server.connect = (transport: Transport) => {
      this.#observe(transport);
      return connect(transport);
    };
  }

  /** The dispatcher took request `id`: it writes the record itself, so the ledger forgets the attempt. */
  reached(id: RequestId): void {
    const attempts = this.#open.get(id);
    attempts?.shift();
    if (attempts?.length === 0) this.#open.delete(id);
  }

  #observe(transport: Transport): void {
    // Protocol.connect keeps a handler set before it and calls it first, so ours sees the raw message.
    const onmessage = transport.onmessage;
    transport.onmessage = (message, extra) => {
      if ((message as { method?: unknown }).method === 'tools/call') {
        if (extra?.request) delivered.add(extra.request);
        const attempt = {
          params: (message as { params?: unknown }).params,
          authInfo: extra?.authInfo,
          sessionId: transport.sessionId,
          received: performance.now(),
        };
        // Not a valid request (params not an object): the SDK drops it without an answer, so record it now.
        if (!isJSONRPCRequest(message)) this.#onUnanswered(attempt, null);
        else this.#open.set(message.id, [...(this.#open.get(message.id) ?? []), attempt]);
      }
      onmessage?.(message, extra);
    };
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      this.#answered(message);
      return send(message, options);
    };
    const onclose = transport.onclose;
    transport.onclose = () => {
      for (const attempts of this.#open.values()) for (const a of attempts) this.#onUnanswered(a, null);
      this.#open.clear();
      onclose?.();
    };
  }

  /** Written before the answer is handed to the transport: the record exists when the client sees the error. */
  #answered(message: JSONRPCMessage): void {
    // Every message the server sends passes here, and the SDK's guards are schema parses: with nothing open
    // (the dispatcher took every call) there is nothing to match, so nothing is parsed.
    if (this.#open.size === 0) return;
    if (!isJSONRPCErrorResponse(message) && !isJSONRPCResultResponse(message)) return;
    const id = message.id;
    if (id === undefined || id === null) return;
    const attempts = this.#open.get(id);
    const attempt = attempts?.shift();
    if (!attempt) return;
    if (attempts!.length === 0) this.#open.delete(id);
    this.#onUnanswered(attempt, isJSONRPCErrorResponse(message) ? message.error.code : null);
  }
}

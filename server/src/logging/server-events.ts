import type { LoggingLevel, Server } from '@modelcontextprotocol/server';
import type { ErrorCode } from '../errors.ts';

export const LOGGER = 'mongodb-mcp-secure';

/**
 * What the server tells a client about its own work through `notifications/message` (the logging
 * capability; `logging/setLevel` is the SDK's). A closed shape built from the audit outcome: the request
 * kind, the tool or resource kind, the outcome and the closed error code — never argument values, document
 * contents, messages from the database, tokens or connection strings.
 */
export interface ServerEvent {
  event: 'tool_call' | 'resource_read' | 'completion' | 'prompt_get';
  /** A tool name (ours, from the registry) or a request kind; never caller text. */
  name: string;
  outcome: 'ok' | 'refused' | 'error';
  errorCode: ErrorCode | null;
  documents?: number | null;
}

export function levelOf(outcome: ServerEvent['outcome']): LoggingLevel {
  return outcome === 'ok' ? 'info' : outcome === 'refused' ? 'warning' : 'error';
}

/**
 * Sends one event at the level its outcome implies; the SDK drops it below the level the client set. It is
 * not tied to a request, so on Streamable HTTP it travels on the session's standalone GET stream (JSON
 * answers carry no notifications); a transport with nowhere to send it drops it. Never fails the request.
 */
export function notifyEvent(server: Server, sessionId: string | undefined, e: ServerEvent): void {
  const data = { event: e.event, name: e.name, outcome: e.outcome, errorCode: e.errorCode, ...(e.documents != null ? { documents: e.documents } : {}) };
  try {
    void server.sendLoggingMessage({ level: levelOf(e.outcome), logger: LOGGER, data }, sessionId).catch(() => undefined);
  } catch {
    // not connected (or the revision has no such notification): the audit log has the record anyway
  }
}

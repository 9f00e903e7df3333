import type { SessionStore } from '../transport/http/session-store.ts';
import type { ServerMetrics } from './registry.ts';

/**
 * The official server's session metrics over our store: created/closed counted as they happen (closed with
 * the reason), the gauge read from the store at scrape time, so holding a session costs nothing extra.
 */
export function observeSessions(sessions: SessionStore, m: ServerMetrics): void {
  sessions.observer = {
    created: () => m.sessionCreated.inc(),
    closed: (reason) => m.sessionClosed.inc({ reason }),
  };
  m.sessionCount = () => sessions.size;
}

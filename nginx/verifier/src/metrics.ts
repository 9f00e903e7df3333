/**
 * The verifier's Prometheus metrics, served on a listener of its own (VERIFIER_METRICS_PORT, loopback only):
 * nginx routes only /verify's callers here, never a scrape. Labels come from closed sets — the refusal codes of
 * errors.ts, the two routes, ok/error — never from a request, so no token, claim or URI can reach a label.
 */
import { createServer } from 'node:http';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { REFUSALS } from './errors.ts';
import type { AuditEvent, AuditSink } from './audit.ts';

export interface VerifierMetrics {
  registry: Registry;
  decisions: Counter<'outcome' | 'code' | 'route' | 'cached'>;
  jwksRefreshes: Counter<'result'>;
}

export function createVerifierMetrics(processMetrics = true): VerifierMetrics {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    decisions: new Counter({
      name: 'verifier_decisions_total',
      help: 'auth_request decisions: outcome accept|refuse, code ok or the refusal reason, route ro|rw, cached token or not',
      labelNames: ['outcome', 'code', 'route', 'cached'],
      registers,
    }),
    jwksRefreshes: new Counter({
      name: 'verifier_jwks_refreshes_total',
      help: 'Fetches of the JWK Set from the authorization server, by result (ok|error)',
      labelNames: ['result'],
      registers,
    }),
  };
}

const CODES: ReadonlySet<string> = new Set(['ok', ...Object.keys(REFUSALS)]);

/** Counts every decision the audit log records (one record per /verify answer), then writes it. */
export function countingAuditSink(inner: AuditSink, m: VerifierMetrics): AuditSink {
  return (e: AuditEvent) => {
    m.decisions.inc({
      outcome: e.outcome,
      code: CODES.has(e.code) ? e.code : 'other',
      route: e.route === 'ro' || e.route === 'rw' ? e.route : 'none',
      cached: e.cached === true ? 'true' : 'false',
    });
    inner(e);
  };
}

/**
 * Wraps whatever fetches the key set — our fetchJwks, or the `fetch` handed to jose's createRemoteJWKSet
 * ([customFetch]) — so refreshes are counted whichever cache decides when to refresh.
 */
export function countedFetch<A extends unknown[], R>(fetch: (...args: A) => Promise<R>, m: VerifierMetrics): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      const r = await fetch(...args);
      m.jwksRefreshes.inc({ result: 'ok' });
      return r;
    } catch (e) {
      m.jwksRefreshes.inc({ result: 'error' });
      throw e;
    }
  };
}

/** `GET /metrics` only; everything else 404. The caller has refused a non-loopback host (config.ts). */
export function startMetricsListener(registry: Registry, host: string, port: number, onError: (e: Error) => void): void {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  server.requestTimeout = 10_000;
  server.on('error', onError);
  server.listen(port, host);
}

/**
 * The token verifier: nginx's auth_request target (docs/architecture.md "nginx ⇄ verifier").
 * Configuration is parsed before anything else; a bad value exits 2 with one line naming the field.
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from './config.ts';
import { createAuditSink } from './audit.ts';
import { remoteSigningKeys } from './jwks/remote.ts';
import { TokenCache } from './jwt/token-cache.ts';
import { createVerifierServer } from './http/server.ts';
import { countedFetch, countingAuditSink, createVerifierMetrics, startMetricsListener } from './metrics.ts';
import { startTracing, traceRequests, tracingAuditSink } from './tracing.ts';

const parsed = parseConfig(process.env);
if (!parsed.ok) {
  process.stderr.write(parsed.message + '\n');
  process.exit(2);
}
const c = parsed.config;
let ca: Buffer | undefined;
try {
  ca = c.VERIFIER_CA_FILE ? readFileSync(c.VERIFIER_CA_FILE) : undefined;
} catch {
  process.stderr.write('verifier: invalid configuration: VERIFIER_CA_FILE: cannot be read\n');
  process.exit(2);
}

let audit: ReturnType<typeof createAuditSink>;
try {
  audit = createAuditSink(c.VERIFIER_AUDIT_LOG);
} catch {
  process.stderr.write('verifier: invalid configuration: VERIFIER_AUDIT_LOG: cannot be opened for appending\n');
  process.exit(2);
}

// Metrics only when a port is configured: otherwise not one counter on the request path.
const metrics = c.VERIFIER_METRICS_PORT !== 0 ? createVerifierMetrics() : undefined;
if (metrics) audit = countingAuditSink(audit, metrics);
const tracing = await startTracing(c.VERIFIER_OTLP_TRACES_ENDPOINT);
if (tracing) audit = tracingAuditSink(audit);
const keys = remoteSigningKeys({
  url: c.VERIFIER_JWKS_URL,
  ca,
  refreshIntervalMs: c.VERIFIER_JWKS_REFRESH_MS,
  ...(metrics ? { wrapFetch: (f) => countedFetch(f, metrics) } : {}),
});
const server = createVerifierServer({
  issuer: c.VERIFIER_ISSUER,
  publicBaseUrl: c.VERIFIER_PUBLIC_BASE_URL,
  keys,
  cache: new TokenCache(c.VERIFIER_CACHE_TTL_MS),
  maxTokenLifetimeS: c.VERIFIER_MAX_TOKEN_LIFETIME_S,
  audit,
});

if (tracing) traceRequests(server);
server.on('error', (e) => {
  process.stderr.write(`verifier: ${e.message}\n`);
  process.exit(1);
});
if (metrics) {
  startMetricsListener(metrics.registry, c.VERIFIER_METRICS_HOST, c.VERIFIER_METRICS_PORT, (e) => {
    process.stderr.write(`verifier: metrics listener: ${e.message}\n`);
    process.exit(1);
  });
}
server.listen(c.VERIFIER_PORT, c.VERIFIER_HOST, () => {
  void keys.warm();
  process.stderr.write(`verifier: listening on ${c.VERIFIER_HOST}:${c.VERIFIER_PORT}, issuer ${c.VERIFIER_ISSUER}\n`);
});
// Stop: no new requests, then the last spans within their budget (a collector that is gone or hangs cannot hold
// the exit), then exit; the audit's last batch is written by its 'exit' handler (audit.ts).
const stop = (): void => {
  server.close(() => {
    void (tracing?.shutdown() ?? Promise.resolve('flushed')).then((r) => {
      if (r !== 'flushed') process.stderr.write(`verifier: shutdown: tracing ${r}; going on\n`);
      process.exit(0);
    });
  });
  server.closeAllConnections();
};
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, stop);

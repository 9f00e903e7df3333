/**
 * The token verifier: nginx's auth_request target (docs/architecture.md "nginx ⇄ verifier").
 * Configuration is parsed before anything else; a bad value exits 2 with one line naming the field.
 */
import { readFileSync } from 'node:fs';
import { parseConfig } from './config.ts';
import { createAuditSink } from './audit.ts';
import { JwksCache } from './jwks/cache.ts';
import { fetchJwks } from './jwks/fetch.ts';
import { TokenCache } from './jwt/token-cache.ts';
import { createVerifierServer } from './http/server.ts';

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

const keys = new JwksCache({ source: () => fetchJwks(c.VERIFIER_JWKS_URL, { ca }), refreshIntervalMs: c.VERIFIER_JWKS_REFRESH_MS });
const server = createVerifierServer({
  issuer: c.VERIFIER_ISSUER,
  publicBaseUrl: c.VERIFIER_PUBLIC_BASE_URL,
  keys,
  cache: new TokenCache(c.VERIFIER_CACHE_TTL_MS),
  maxTokenLifetimeS: c.VERIFIER_MAX_TOKEN_LIFETIME_S,
  audit,
});

server.on('error', (e) => {
  process.stderr.write(`verifier: ${e.message}\n`);
  process.exit(1);
});
server.listen(c.VERIFIER_PORT, c.VERIFIER_HOST, () => {
  void keys.warm();
  process.stderr.write(`verifier: listening on ${c.VERIFIER_HOST}:${c.VERIFIER_PORT}, issuer ${c.VERIFIER_ISSUER}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => server.close(() => process.exit(0)).closeAllConnections());

/**
 * Verifier throughput on one core: the verifier's own validation code (signature, issuer, lifetime, token
 * type, then the route's audience/scope check) run in this process against a real Keycloak token, with the
 * JWKS fetched once and cached — what a cache-miss /verify costs, minus HTTP. Validations are awaited one
 * after another, and the rate is also reported per CPU-second of this process, so it is per core even where
 * WebCrypto hands work to libuv's thread pool. The same for a hit of the verifier's result cache
 * (jwt/token-cache.ts), and the hit rate the secure path actually saw (the verifier's audit records).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { StackManifest } from '../tests/harness/manifest.ts';
import { serviceAgentToken } from '../tests/harness/tokens.ts';
import { remoteSigningKeys } from '../nginx/verifier/src/jwks/remote.ts';
import { verifyAccessToken } from '../nginx/verifier/src/jwt/verify.ts';
import { checkRights } from '../nginx/verifier/src/jwt/rights.ts';
import { TokenCache } from '../nginx/verifier/src/jwt/token-cache.ts';

export interface VerifierRate {
  validations: number;
  wallPerSecond: number;
  /** Cache misses: jose's signature check + claims + route rights. */
  perCpuSecond: number;
  /** Cache hits: SHA-256 of the token, the result cache's lookup, route rights (what /verify does on a hit). */
  cachedPerCpuSecond: number;
  alg: string;
}

/** How many times `once` runs per CPU-second of this process (and per wall second), after a warm-up. */
async function rate(once: () => Promise<unknown> | unknown, durationMs: number): Promise<{ n: number; wall: number; cpu: number }> {
  const warmUntil = performance.now() + Math.min(500, durationMs / 4);
  while (performance.now() < warmUntil) await once();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < durationMs) {
    await once();
    n++;
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { n, wall: n / wallS, cpu: cpuS > 0 ? n / cpuS : 0 };
}

export async function verifierRate(m: StackManifest, durationMs: number): Promise<VerifierRate> {
  const token = (await serviceAgentToken(m)).access_token;
  const ca = readFileSync(m.caFile);
  const keys = remoteSigningKeys({ url: `${m.issuer}/protocol/openid-connect/certs`, ca });
  await keys.warm();
  keys.close(); // no background refresh during a measurement
  const publicBase = new URL(m.resources.readOnly).origin;
  const verify = async () => checkRights(await verifyAccessToken(token, { issuer: m.issuer, keys }), 'ro', publicBase);
  await verify(); // a refusal here (wrong issuer, audience...) must stop the measurement, not be timed
  const cache = new TokenCache(30_000);
  cache.set(createHash('sha256').update(token).digest('hex'), await verifyAccessToken(token, { issuer: m.issuer, keys }));
  // What server.ts does on a hit: hash the token, look it up, check the route's rights.
  const hit = () => {
    const claims = cache.get(createHash('sha256').update(token).digest('hex'));
    if (!claims) throw new Error('token cache miss during the hit measurement');
    checkRights(claims, 'ro', publicBase);
  };
  const miss = await rate(verify, durationMs);
  const hits = await rate(hit, Math.min(durationMs, 1_000));
  const alg = (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { alg?: string }).alg ?? '?';
  return { validations: miss.n, wallPerSecond: miss.wall, perCpuSecond: miss.cpu, cachedPerCpuSecond: hits.cpu, alg };
}

/**
 * The result cache's hit rate on the secure path during this run, from the verifier's own audit records
 * (`cached` on every accept): one agent token shared by all sessions, as an agent holds it, is the realistic
 * reuse. Null when the log is not readable or holds no accept since `since`.
 */
export function cacheHitRate(auditLog: string, since: string): { accepts: number; cached: number; hitRate: number } | null {
  let text: string;
  try {
    text = readFileSync(auditLog, 'utf8');
  } catch {
    return null;
  }
  let accepts = 0;
  let cached = 0;
  for (const line of text.split('\n')) {
    if (!line.includes('"outcome":"accept"')) continue;
    const r = JSON.parse(line) as { ts?: string; cached?: boolean };
    if (!r.ts || r.ts < since) continue;
    accepts++;
    if (r.cached) cached++;
  }
  return accepts === 0 ? null : { accepts, cached, hitRate: cached / accepts };
}

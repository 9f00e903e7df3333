/**
 * Verifier throughput on one core: the verifier's own validation code (signature, issuer, lifetime, token
 * type, then the route's audience/scope check) run in this process against a real Keycloak token, with the
 * JWKS fetched once and cached — what a cache-miss /verify costs, minus HTTP. Validations are awaited one
 * after another, and the rate is also reported per CPU-second of this process, so it is per core even where
 * WebCrypto hands work to libuv's thread pool.
 */
import { readFileSync } from 'node:fs';
import type { StackManifest } from '../tests/harness/manifest.ts';
import { serviceAgentToken } from '../tests/harness/tokens.ts';
import { JwksCache } from '../nginx/verifier/src/jwks/cache.ts';
import { fetchJwks } from '../nginx/verifier/src/jwks/fetch.ts';
import { verifyAccessToken } from '../nginx/verifier/src/jwt/verify.ts';
import { checkRights } from '../nginx/verifier/src/jwt/rights.ts';

export interface VerifierRate {
  validations: number;
  wallPerSecond: number;
  perCpuSecond: number;
  alg: string;
}

export async function verifierRate(m: StackManifest, durationMs: number): Promise<VerifierRate> {
  const token = (await serviceAgentToken(m)).access_token;
  const ca = readFileSync(m.caFile);
  const keys = new JwksCache({ source: () => fetchJwks(`${m.issuer}/protocol/openid-connect/certs`, { ca }) });
  await keys.warm();
  const publicBase = new URL(m.resources.readOnly).origin;
  const once = async () => checkRights(await verifyAccessToken(token, { issuer: m.issuer, keys }), 'ro', publicBase);
  await once(); // a refusal here (wrong issuer, audience...) must stop the measurement, not be timed
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
  const alg = (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { alg?: string }).alg ?? '?';
  return { validations: n, wallPerSecond: n / wallS, perCpuSecond: cpuS > 0 ? n / cpuS : 0, alg };
}

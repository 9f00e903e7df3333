/**
 * Launches the edge's token verifier (nginx/verifier/src/main.ts), the target of nginx's auth_request:
 * loopback-only in the edge's namespace, trusting exactly one issuer (the public URL, RFC 8414 §3.3 exact
 * match) while fetching keys from Keycloak's internal address.
 */
import { resolve } from 'node:path';
import { ROOT } from './manifest.ts';
import { httpOk, startService, waitFor, type Service } from './process.ts';
import { ROUTES } from '../../contract/contract.ts';

export interface VerifierOptions {
  port: number;
  issuer: string;
  jwksUrl: string;
  publicBaseUrl: string;
  /** Trust anchor for an https JWKS URL. */
  caFile?: string;
  auditLog: string;
  /** The loopback-only metrics listener (GET /metrics). */
  metricsPort: number;
  netns: string | null;
  logFile: string;
  timeoutMs?: number;
}

export interface Verifier {
  service: Service;
  url: string;
}

export async function startVerifier(o: VerifierOptions): Promise<Verifier> {
  const service = startService({
    name: 'verifier',
    command: process.execPath,
    args: [resolve(ROOT, 'nginx/verifier/src/main.ts')],
    cwd: ROOT,
    netns: o.netns,
    logFile: o.logFile,
    env: {
      VERIFIER_HOST: '127.0.0.1',
      VERIFIER_PORT: String(o.port),
      VERIFIER_ISSUER: o.issuer,
      VERIFIER_JWKS_URL: o.jwksUrl,
      VERIFIER_PUBLIC_BASE_URL: o.publicBaseUrl,
      VERIFIER_AUDIT_LOG: o.auditLog,
      VERIFIER_METRICS_PORT: String(o.metricsPort),
      // Trace export is off unless the runner's environment names a collector (OTLP/HTTP).
      ...(process.env.STACK_OTLP_TRACES_ENDPOINT ? { VERIFIER_OTLP_TRACES_ENDPOINT: process.env.STACK_OTLP_TRACES_ENDPOINT } : {}),
      ...(o.caFile ? { VERIFIER_CA_FILE: o.caFile } : {}),
    },
  });
  const url = `http://127.0.0.1:${o.port}`;
  try {
    await waitFor(`verifier ${ROUTES.health}`, () => httpOk(`${url}${ROUTES.health}`, { netns: o.netns }), {
      service,
      timeoutMs: o.timeoutMs ?? 30_000,
    });
  } catch (e) {
    await service.stop();
    throw e;
  }
  return { service, url };
}

/**
 * The verifier's configuration: one schema, parsed once from the environment; a bad value stops the
 * process with one line naming the field (exit 2) before any socket opens.
 */
import { z } from 'zod';
import { PORTS } from '../../../contract/contract.ts';
import { CLOCK_SKEW_S, DEFAULT_MAX_TOKEN_LIFETIME_S } from './jwt/verify.ts';

const httpUrl = z.url({ protocol: /^https?$/ });

export const ConfigSchema = z.object({
  VERIFIER_HOST: z.string().default('127.0.0.1').describe('listen address; loopback by default: only nginx asks'),
  VERIFIER_PORT: z.coerce.number().int().min(1).max(65535).default(PORTS.verifier).describe('listen port'),
  VERIFIER_ISSUER: httpUrl.describe('the public issuer, matched exactly (e.g. https://localhost:8443/realms/mcp)'),
  VERIFIER_JWKS_URL: httpUrl.describe("internal URL of Keycloak's certs endpoint"),
  VERIFIER_PUBLIC_BASE_URL: z
    .url({ protocol: /^https$/ })
    .transform((u) => u.replace(/\/+$/, ''))
    .describe('the edge origin'),
  VERIFIER_CA_FILE: z.string().min(1).optional().describe('CA bundle to trust an https JWKS endpoint'),
  VERIFIER_AUDIT_LOG: z.string().min(1).default('stderr').describe('stderr or a file path'),
  VERIFIER_CACHE_TTL_MS: z.coerce.number().int().min(0).max(30_000).default(30_000).describe('verified-token cache TTL; 0 disables'),
  VERIFIER_MAX_TOKEN_LIFETIME_S: z.coerce
    .number()
    .int()
    .min(CLOCK_SKEW_S)
    .max(86_400)
    .default(DEFAULT_MAX_TOKEN_LIFETIME_S)
    .describe("longest accepted exp - iat in seconds: the realm's access-token lifespan plus the clock skew"),
  VERIFIER_JWKS_REFRESH_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(30_000)
    .describe('JWKS cooldown: no refetch for an unknown kid within this long of the last fetch, nor after a failed one'),
  // Why loopback only: scrape endpoints are never reachable from outside the edge (nginx does not route them either).
  VERIFIER_METRICS_HOST: z
    .string()
    .regex(/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/, 'must be a loopback address')
    .default('127.0.0.1')
    .describe('bind address of the metrics listener'),
  VERIFIER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0).describe('GET /metrics (Prometheus) on its own port; 0 = no listener'),
  VERIFIER_OTLP_TRACES_ENDPOINT: z
    .union([z.literal(''), httpUrl])
    .default('')
    .describe('OTLP/HTTP endpoint for trace spans; empty = tracing off'),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Parses the environment; on failure returns the one line to print (field and problem, never a value). */
export function parseConfig(env: Record<string, string | undefined>): { ok: true; config: Config } | { ok: false; message: string } {
  const r = ConfigSchema.safeParse(env);
  if (r.success) return { ok: true, config: r.data };
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') ?? 'config';
  return { ok: false, message: `verifier: invalid configuration: ${field}: ${issue?.message ?? 'invalid'}` };
}

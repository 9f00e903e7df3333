import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { countedFetch, countingAuditSink, createVerifierMetrics } from '../src/metrics.ts';
import type { AuditEvent } from '../src/audit.ts';

const base = {
  VERIFIER_ISSUER: 'https://localhost:8443/realms/mcp',
  VERIFIER_JWKS_URL: 'http://kc:8080/certs',
  VERIFIER_PUBLIC_BASE_URL: 'https://localhost:8443',
};

describe('verifier metrics', () => {
  it('count each decision by outcome, reason, route and cache, and pass it on to the audit log', async () => {
    const m = createVerifierMetrics(false);
    const seen: AuditEvent[] = [];
    const sink = countingAuditSink((e) => seen.push(e), m);
    sink({ outcome: 'accept', code: 'ok', route: 'ro', cached: true });
    sink({ outcome: 'refuse', code: 'missing_scope', route: 'rw', sub: 'alice', path: '/mcp/admin?token=x' });
    sink({ outcome: 'refuse', code: 'bad_route', route: 'evil' });
    expect(seen).toHaveLength(3);
    const text = await m.registry.metrics();
    expect(text).toContain('verifier_decisions_total{outcome="accept",code="ok",route="ro",cached="true"} 1');
    expect(text).toContain('verifier_decisions_total{outcome="refuse",code="missing_scope",route="rw",cached="false"} 1');
    expect(text).toContain('verifier_decisions_total{outcome="refuse",code="bad_route",route="none",cached="false"} 1');
    expect(text).not.toMatch(/alice|token=x|evil/);
  });

  it('count JWKS fetches by result whatever does the fetching, and keep their result or error', async () => {
    const m = createVerifierMetrics(false);
    const ok = countedFetch(async () => [{ kid: 'k' }], m);
    const bad = countedFetch(async () => {
      throw new Error('down');
    }, m);
    expect(await ok()).toEqual([{ kid: 'k' }]);
    await expect(bad()).rejects.toThrow('down');
    const text = await m.registry.metrics();
    expect(text).toContain('verifier_jwks_refreshes_total{result="ok"} 1');
    expect(text).toContain('verifier_jwks_refreshes_total{result="error"} 1');
  });

  it('have no listener by default and refuse a non-loopback one (exit 2 line names the field)', () => {
    const d = parseConfig(base);
    expect(d.ok && d.config.VERIFIER_METRICS_PORT).toBe(0);
    const r = parseConfig({ ...base, VERIFIER_METRICS_PORT: '9403', VERIFIER_METRICS_HOST: '0.0.0.0' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('VERIFIER_METRICS_HOST');
  });
});

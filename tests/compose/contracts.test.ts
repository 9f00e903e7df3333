/**
 * compose.yaml configures each tier through that tier's own configuration schema, so a renamed or mistyped
 * variable fails here rather than at `docker compose up`.
 */
import { describe, expect, it } from 'vitest';
import { InitEnvSchema } from '../../db/config.ts';
import { ConfigSchema as ReaperConfigSchema } from '../../scripts/dcr/config.ts';
import { parseConfig as parseVerifierConfig } from '../../nginx/verifier/src/config.ts';
import { parseConfig as parseServerConfig } from '../../server/src/config/parse.ts';
import { envOf, loadCompose, rawText } from './compose-file.ts';

const compose = loadCompose();
const env = (name: string) => envOf(compose.services[name] ?? {});
/** Stands in for the 0400 files `certs` installs; only the shape matters here. */
const fakeFile = (path: string) => (path.endsWith('/uri') ? 'mongodb://u:p@mongo1:27017/?tls=true' : 'x'.repeat(32));

describe("compose.yaml ⇄ the tiers' configuration schemas", () => {
  it.each(['mcp-ro', 'mcp-rw'])('configures %s with values our MCP server accepts', (name) => {
    const r = parseServerConfig([], env(name), fakeFile);
    expect(r.kind === 'error' ? r.message : r.kind).toBe('config');
  });

  it('configures the verifier with values it accepts, on loopback, with the public issuer', () => {
    const r = parseVerifierConfig(env('verifier'));
    expect(r.ok ? r.config.VERIFIER_HOST : r.message).toBe('127.0.0.1');
    expect(r.ok && r.config.VERIFIER_ISSUER).toBe(`${env('proxy').PUBLIC_BASE_URL}/realms/mcp`);
  });

  it('configures mongo-init with values db/init.ts accepts, credentials only as *_FILE', () => {
    const r = InitEnvSchema.safeParse(env('mongo-init'));
    expect(r.success ? 'ok' : r.error.issues[0]?.path.join('.')).toBe('ok');
    expect(env('mongo-init').DB_INIT_URI).not.toMatch(/@/);
  });

  it('configures the registration reaper with values scripts/dcr/config.ts accepts: its own client secret as a file, Keycloak by name', () => {
    const r = ReaperConfigSchema.safeParse(env('dcr-reaper'));
    expect(r.success ? r.data.DCR_REAPER_CLIENT_ID : r.error.issues[0]?.path.join('.')).toBe('mcp-dcr-reaper');
    expect(r.success && r.data.DCR_REAPER_KEYCLOAK_URL).toBe('http://keycloak:8080');
    expect(Object.keys(env('dcr-reaper')).filter((k) => /PASSWORD|ADMIN/.test(k))).toEqual([]);
  });

  it("fills every ${PLACEHOLDER} of keycloak/realm-mcp.json from keycloak's environment or its entrypoint", () => {
    const placeholders = [...new Set([...rawText('keycloak/realm-mcp.json').matchAll(/\$\{([A-Z][A-Z0-9_]*)(?::[^}]*)?\}/g)].map((m) => m[1] ?? ''))];
    const kc = compose.services.keycloak ?? {};
    const exported = [
      ...[kc.entrypoint ?? []]
        .flat()
        .join('\n')
        .matchAll(/\b([A-Z][A-Z0-9_]*)="\$\$\(</g),
    ].map((m) => m[1]);
    expect(placeholders.length).toBeGreaterThan(0);
    expect(placeholders.filter((p) => !(p in env('keycloak')) && !exported.includes(p))).toEqual([]);
  });

  it('gives every tier the same public origin (issuer, resource URIs, allowed Host)', () => {
    const origin = env('proxy').PUBLIC_BASE_URL;
    expect(origin).toBe('https://localhost:8443');
    expect(env('keycloak').KC_HOSTNAME).toBe(origin);
    expect(env('keycloak').PUBLIC_BASE_URL).toBe(origin);
    expect(env('verifier').VERIFIER_PUBLIC_BASE_URL).toBe(origin);
    for (const name of ['mcp-ro', 'mcp-rw']) expect(env(name).MDB_MCP_HTTP_ALLOWED_HOSTS).toBe(env('proxy').PUBLIC_HOST);
  });
});

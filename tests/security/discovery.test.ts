/**
 * An MCP client that knows only the MCP URL: it must find the authorization server from the 401
 * challenge and the RFC 9728 metadata, get a token for this resource (RFC 8707 `resource`), and work.
 */
import { describe, expect, inject, it } from 'vitest';
import { Client, ClientCredentialsProvider, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { InMemoryOAuthHost } from '../harness/oauth-host.ts';
import { formLogin } from '../harness/tokens.ts';
import { fetchWithCa } from '../harness/http.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');

describe('discovery from the challenge', () => {
  it('publishes protected-resource metadata that names the issuer for both routes', async () => {
    const f = fetchWithCa(m.caFile);
    for (const [resource, path] of [
      [m.resources.readOnly, '/mcp'],
      [m.resources.readWrite, '/mcp/admin'],
    ] as const) {
      const r = await f(`${m.edgeUrl}/.well-known/oauth-protected-resource${path}`);
      expect(r.status).toBe(200);
      const doc = (await r.json()) as { resource: string; authorization_servers: string[] };
      expect(doc.resource).toBe(resource);
      expect(doc.authorization_servers).toEqual([m.issuer]);
    }
  });

  it('lets the official SDK client discover Keycloak from the 401, log a user in with PKCE and the resource parameter, and call a tool', async (ctx) => {
    const { seen, spy } = recordingFetch();
    const provider = new InMemoryOAuthHost({ name: 'discovering-agent', redirectUrl: m.clients.agent.redirectUri, clientId: m.clients.agent.id });
    const connect = async () => {
      const transport = new StreamableHTTPClientTransport(new URL(m.resources.readOnly), { authProvider: provider, fetch: spy as never });
      const client = new Client({ name: 'discovering-agent', version: '1.0.0' });
      await client.connect(transport);
      return { client, transport };
    };
    // First contact: no token, so the SDK reads the challenge, the RFC 9728 metadata and Keycloak's
    // metadata, then asks us to send the user to the authorization URL.
    const first = await connect().catch((e: Error) => e);
    expect(first).toBeInstanceOf(Error);
    const authUrl = provider.authorizationUrl!;
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('resource')).toBe(m.resources.readOnly);
    const callback = new URL(await formLogin(m, authUrl, m.users.analyst.username, m.users.analyst.password));
    const t = new StreamableHTTPClientTransport(new URL(m.resources.readOnly), { authProvider: provider, fetch: spy as never });
    await t.finishAuth(callback.searchParams);
    const { client } = await connect();
    const r = await client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
    await client.close();
    expect(r.isError).toBeFalsy();
    expect(seen.some((u) => u.includes('/.well-known/oauth-protected-resource'))).toBe(true);
    expect(seen.find((s) => s.includes('grant_type=authorization_code'))).toContain(`resource=${encodeURIComponent(m.resources.readOnly)}`);
    recordProof(ctx, {
      attack: 'agent knows only the MCP URL',
      expected: 'discovers Keycloak via RFC 9728, PKCE + resource, tool works',
      observed: 'tool call succeeded',
    });
  });

  it('lets a service agent built on the official SDK discover Keycloak and authenticate with client credentials', async (ctx) => {
    const { seen, spy } = recordingFetch();
    const provider = new ClientCredentialsProvider({ clientId: m.clients.service.id, clientSecret: m.clients.service.secret, expectedIssuer: m.issuer });
    const client = new Client({ name: 'service-agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(m.resources.readOnly), { authProvider: provider, fetch: spy as never }));
    const r = await client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
    await client.close();
    expect(r.isError).toBeFalsy();
    expect(seen.find((b) => b.includes('grant_type=client_credentials'))).toContain(`resource=${encodeURIComponent(m.resources.readOnly)}`);
    recordProof(ctx, {
      attack: 'SDK service agent knows only the MCP URL',
      expected: 'client credentials with resource, tool works',
      observed: 'tool call succeeded',
    });
  });
});

/** A fetch trusting the stack's CA that records every URL and request body the SDK sends, in order. */
function recordingFetch(): { seen: string[]; spy: typeof fetch } {
  const seen: string[] = [];
  const base = fetchWithCa(m.caFile);
  const spy = (async (input: string | URL | Request, init?: RequestInit) => {
    seen.push(String(input instanceof Request ? input.url : input));
    if (init?.body !== undefined) seen.push(String(init.body));
    return base(input, init);
  }) as typeof fetch;
  return { seen, spy };
}

/**
 * An MCP client that knows only the MCP URL: it must find the authorization server from the 401
 * challenge and the RFC 9728 metadata, get a token for this resource (RFC 8707 `resource`), and work.
 */
import { describe, expect, inject, it } from 'vitest';
import { Client, ClientCredentialsProvider, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { fetchWithCa } from '../harness/http.ts';
import { recordProof } from '../harness/proof.ts';

const m = inject('manifest');

describe('discovery from the challenge', () => {
  it('publishes protected-resource metadata that names the issuer for both routes', async () => {
    const f = fetchWithCa(m.caFile);
    for (const [resource, path] of [[m.resources.readOnly, '/mcp'], [m.resources.readWrite, '/mcp/admin']] as const) {
      const r = await f(`${m.edgeUrl}/.well-known/oauth-protected-resource${path}`);
      expect(r.status).toBe(200);
      const doc = (await r.json()) as { resource: string; authorization_servers: string[] };
      expect(doc.resource).toBe(resource);
      expect(doc.authorization_servers).toEqual([m.issuer]);
    }
  });

  it("lets the official SDK client discover Keycloak from the 401 and call a tool", async (ctx) => {
    const seen: string[] = [];
    const base = fetchWithCa(m.caFile);
    const spy = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      if (init?.body instanceof URLSearchParams || typeof init?.body === 'string') {
        const body = String(init.body);
        if (body.includes('grant_type=')) seen.push(body);
      }
      seen.push(url);
      return base(input, init);
    }) as typeof fetch;
    const provider = new ClientCredentialsProvider({ clientId: m.clients.service.id, clientSecret: m.clients.service.secret, expectedIssuer: m.issuer } as never);
    const transport = new StreamableHTTPClientTransport(new URL(m.resources.readOnly), { authProvider: provider, fetch: spy as never });
    const client = new Client({ name: 'discovering-agent', version: '1.0.0' });
    await client.connect(transport);
    const r = await client.callTool({ name: 'list-collections', arguments: { database: m.database.name } });
    await client.close();
    expect(r.isError).toBeFalsy();
    expect(seen.some((u) => u.includes('/.well-known/oauth-protected-resource'))).toBe(true);
    const tokenRequest = seen.find((s) => s.includes('grant_type=client_credentials'));
    expect(tokenRequest).toContain(`resource=${encodeURIComponent(m.resources.readOnly)}`);
    recordProof(ctx, { attack: 'agent knows only the MCP URL', expected: 'discovers AS via RFC 9728, token with resource, tool works', observed: 'tool call succeeded' });
  });
});

/**
 * What an MCP host sends to register itself (RFC 7591) in the onboarding and registration suites: a public
 * code-flow client with a loopback redirect and PKCE, the shape every anonymous registration here must have.
 */
export function publicClientMetadata(clientName: string, redirectUri: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_name: clientName,
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: 'mcp:read',
    ...extra,
  };
}

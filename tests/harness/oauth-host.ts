/**
 * The OAuth side of an MCP host as the SDK expects it (OAuthClientProvider): tokens, PKCE verifier, discovery
 * state and the client registration in memory; the user's browser elsewhere (the test drives it to
 * `authorizationUrl`). With no client id it registers itself (RFC 7591) like a freshly installed host.
 */
import type { OAuthClientInformationMixed, OAuthClientProvider, OAuthDiscoveryState, OAuthTokens } from '@modelcontextprotocol/client';

export class InMemoryOAuthHost implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  /** Every client id this host was given by a registration, in order. */
  readonly registrations: string[] = [];
  readonly redirectUrl: string;
  private client: OAuthClientInformationMixed | undefined;
  private readonly name: string;
  private verifier = '';
  private discovery: OAuthDiscoveryState | undefined;
  private stored: OAuthTokens | undefined;

  constructor(o: { name: string; redirectUrl: string; clientId?: string }) {
    this.name = o.name;
    this.redirectUrl = o.redirectUrl;
    this.client = o.clientId ? { client_id: o.clientId } : undefined;
  }
  get clientMetadata() {
    return {
      client_name: this.name,
      redirect_uris: [this.redirectUrl],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(c: OAuthClientInformationMixed) {
    if (c.client_id !== this.client?.client_id) this.registrations.push(c.client_id);
    this.client = c;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'client') this.client = undefined;
    if (scope === 'all' || scope === 'tokens') this.stored = undefined;
    if (scope === 'all' || scope === 'discovery') this.discovery = undefined;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(t: OAuthTokens) {
    this.stored = t;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
  // Kept with the verifier so the SDK can check, on the callback leg, that the code comes from the
  // authorization server it discovered (SEP-2352: no mix-up between authorization servers).
  saveDiscoveryState(state: OAuthDiscoveryState) {
    this.discovery = state;
  }
  discoveryState() {
    return this.discovery;
  }
}

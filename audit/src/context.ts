/**
 * What the practices share about one target, each fetched once: the anonymous answer to initialize, the
 * RFC 9728 metadata, the authorization server's metadata, a token (when credentials were given) and an
 * authenticated MCP session with its tool list.
 */
import type { RawResponse, Endpoint } from './probes/http.ts';
import { header, rawRequest } from './probes/http.ts';
import { initializeBody, MCP_HEADERS, openSession, listTools, type McpSession, type ToolInfo } from './probes/mcp.ts';
import { findReadTarget, type ReadTarget } from './probes/namespace.ts';
import { clientCredentialsToken, fetchAuthServerMetadata, fetchResourceMetadata, type ResourceMetadata, type TokenSet } from './probes/oauth.ts';

export type Credentials = { kind: 'client'; clientId: string; clientSecret: string } | { kind: 'token'; token: string } | { kind: 'none' };

export interface AuditOptions {
  url: URL;
  ca?: string;
  writeUrl?: URL;
  credentials: Credentials;
  /** An access token that has expired (--expired-token-file): the one way to probe expiry black-box. */
  expiredToken?: string;
  aggressive: boolean;
  /** Where --aggressive announces what it is about to do. */
  announce: (line: string) => void;
}

const once = <T>(f: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
};

export class AuditContext {
  readonly target: Endpoint;
  readonly write: Endpoint | undefined;
  readonly options: AuditOptions;
  private sessions: McpSession[] = [];

  constructor(o: AuditOptions) {
    this.options = o;
    this.target = { url: o.url, ca: o.ca };
    this.write = o.writeUrl ? { url: o.writeUrl, ca: o.ca } : undefined;
  }

  get hasCredentials(): boolean {
    return this.options.credentials.kind !== 'none';
  }

  /** initialize without any credential, as anyone on the network could send it. */
  readonly anonymousInitialize = once((): Promise<RawResponse> => rawRequest(this.target, { method: 'POST', headers: MCP_HEADERS, body: initializeBody() }));

  /** True when the target serves MCP to a caller without credentials. */
  readonly servesAnonymously = once(async () => (await this.anonymousInitialize()).status === 200);

  readonly resourceMetadata = once(
    async (): Promise<ResourceMetadata> => fetchResourceMetadata(this.target, header(await this.anonymousInitialize(), 'www-authenticate')),
  );

  readonly authServers = once(async (): Promise<string[]> => {
    const servers = (await this.resourceMetadata()).doc?.authorization_servers;
    return Array.isArray(servers) ? servers.filter((s): s is string => typeof s === 'string') : [];
  });

  readonly authServerMetadata = once(async () => {
    const [issuer] = await this.authServers();
    return issuer ? { issuer, ...(await fetchAuthServerMetadata(this.target, issuer)) } : undefined;
  });

  /** Tokens for the target (RFC 8707 resource = the MCP URL), or undefined without credentials. */
  readonly tokens = once(async (): Promise<TokenSet | undefined> => this.tokensFor(this.options.url));

  /**
   * A client-credentials token for `resource` (none: no RFC 8707 parameter), asking for the resource's advertised scopes plus `extra`,
   * or for `exactly` those scopes (the other-audience probe asks for none of the resource's).
   */
  async tokensFor(resource: URL | undefined, scopes: { extra?: string; exactly?: string } = {}): Promise<TokenSet | undefined> {
    const c = this.options.credentials;
    if (c.kind === 'none') return undefined;
    if (c.kind === 'token') return { access_token: c.token };
    const as = await this.authServerMetadata();
    const tokenEndpoint = as && 'doc' in as ? as.doc.token_endpoint : undefined;
    if (typeof tokenEndpoint !== 'string') throw new Error('no token endpoint discovered (RFC 9728 → RFC 8414) to use the client credentials with');
    const advertised = (await this.resourceMetadata()).doc?.scopes_supported;
    const scope = scopes.exactly ?? ([scopes.extra, ...(Array.isArray(advertised) ? advertised : [])].filter(Boolean).join(' ') || undefined);
    return clientCredentialsToken(this.target, { tokenEndpoint, clientId: c.clientId, clientSecret: c.clientSecret, resource: resource?.toString(), scope });
  }

  readonly accessToken = once(async () => (await this.tokens())?.access_token);

  /**
   * An MCP session as the auditor's credentials allow: with the token, or anonymously when the target
   * serves anonymous callers. Undefined when neither works (the tool practices are then not applicable).
   */
  readonly session = once(async (): Promise<McpSession | undefined> => {
    const token = await this.accessToken().catch(() => undefined);
    if (!token && !(await this.servesAnonymously())) return undefined;
    return this.openSession(token);
  });

  async openSession(token: string | undefined, e: Endpoint = this.target): Promise<McpSession> {
    const s = await openSession(e, token);
    this.sessions.push(s);
    return s;
  }

  readonly tools = once(async (): Promise<ToolInfo[] | undefined> => {
    const s = await this.session();
    return s ? listTools(s) : undefined;
  });

  /** A real namespace for the read probes, and the arguments every call needs on this server. */
  readonly readTarget = once(async (): Promise<ReadTarget | undefined> => {
    const s = await this.session();
    const tools = await this.tools();
    return s && tools ? findReadTarget(s, tools) : undefined;
  });

  async close(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.close()));
  }
}

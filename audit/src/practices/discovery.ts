/** Authentication and discovery: the challenge, RFC 9728 metadata, the authorization server's metadata. */
import { fail, notApplicable, pass, SOURCES, type Practice } from './shared.ts';
import { header, rawRequest } from '../probes/http.ts';
import { resourceMetadataOf } from '../probes/oauth.ts';

export const authRequired: Practice = {
  id: 'auth-required',
  title: 'Anonymous initialize refused with 401 and a Bearer challenge naming resource_metadata',
  source: `${SOURCES.mcpAuthz} › Authorization Server Location; RFC 9728 §5.1; RFC 6750 §3`,
  async run(ctx) {
    const r = await ctx.anonymousInitialize();
    const challenge = header(r, 'www-authenticate');
    if (r.status === 200) return fail('initialize without credentials answered 200: anyone who reaches the URL uses the database');
    if (r.status !== 401) return fail(`initialize without credentials answered ${r.status}, not 401`);
    if (!challenge || !/^Bearer\b/i.test(challenge)) return fail(`401 without a Bearer WWW-Authenticate challenge (${challenge ?? 'none'})`);
    const metadata = resourceMetadataOf(challenge);
    return metadata
      ? pass(`401, WWW-Authenticate: Bearer … resource_metadata="${metadata}"`)
      : fail('401 Bearer challenge without resource_metadata (RFC 9728 §5.1)');
  },
};

export const resourceMetadata: Practice = {
  id: 'resource-metadata',
  title: 'RFC 9728 metadata: resource equals the MCP URL and names authorization servers',
  source: `${SOURCES.mcpAuthz} › Protected Resource Metadata Discovery; RFC 9728 §3, §3.3`,
  async run(ctx) {
    if (await ctx.servesAnonymously()) return notApplicable('the target requires no authorization (see auth-required)');
    const m = await ctx.resourceMetadata();
    if (m.status !== 200 || !m.doc) return fail(`${m.url} answered ${m.status} without a JSON document`);
    if (m.doc.resource !== ctx.target.url.toString())
      return fail(`resource is ${JSON.stringify(m.doc.resource)}, not ${ctx.target.url} (RFC 9728 §3.3: the client MUST reject it)`);
    const servers = await ctx.authServers();
    if (!servers.length) return fail('no authorization_servers');
    const insecure = servers.filter((s) => !s.startsWith('https://'));
    if (insecure.length) return fail(`authorization server not on https: ${insecure.join(', ')}`);
    return pass(`${m.url}: resource ${m.doc.resource}, authorization_servers ${servers.join(', ')}`);
  },
};

/** Endpoint fields of RFC 8414 / OIDC metadata a client may be sent to. */
const ENDPOINT_FIELD = /(_endpoint|^jwks_uri)$/;

export const authServerMetadata: Practice = {
  id: 'auth-server-metadata',
  title: 'Authorization-server metadata reachable, issuer consistent, PKCE S256, every advertised endpoint answering',
  source: `${SOURCES.mcpAuthz} › Authorization Server Metadata Discovery; RFC 8414 §3.3; OAuth 2.1 §4.1.1 (PKCE)`,
  async run(ctx) {
    if (await ctx.servesAnonymously()) return notApplicable('the target requires no authorization (see auth-required)');
    const as = await ctx.authServerMetadata();
    if (!as) return fail('no authorization server to look up (see resource-metadata)');
    if ('error' in as) return fail(as.error);
    if (as.doc.issuer !== as.issuer) return fail(`issuer ${JSON.stringify(as.doc.issuer)} differs from ${as.issuer} (RFC 8414 §3.3)`);
    const pkce = as.doc.code_challenge_methods_supported;
    if (!Array.isArray(pkce) || !pkce.includes('S256')) return fail('code_challenge_methods_supported lacks S256: MCP clients MUST refuse to proceed');
    const broken: string[] = [];
    const fields = Object.entries(as.doc).filter(([k, v]) => ENDPOINT_FIELD.test(k) && typeof v === 'string') as [string, string][];
    for (const [field, url] of fields) {
      // GET with no parameters: any answer but 404, a 5xx or no connection shows the endpoint is served.
      const r = await rawRequest({ url: new URL(url), ca: ctx.target.ca }, { timeoutMs: 10_000 }).catch((e: NodeJS.ErrnoException) => e.code ?? e.message);
      if (typeof r === 'string') broken.push(`${field} ${url}: ${r}`);
      else if (r.status === 404 || r.status >= 500) broken.push(`${field} ${url}: ${r.status}`);
    }
    if (broken.length) return fail(`advertised but not served: ${broken.join('; ')}`);
    return pass(`${as.url}: issuer matches, S256, ${fields.length} endpoints answer`);
  },
};

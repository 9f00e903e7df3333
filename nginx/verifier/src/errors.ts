/**
 * The closed set of verifier outcomes. Each refusal maps to exactly one HTTP status and RFC 6750 error code,
 * and the code (never the token or a secret) is what the audit log records.
 */

/** How nginx is answered: 401 challenges, 403 insufficient_scope, 5xx fails closed. */
export type Status = 401 | 403 | 500 | 503;
/** RFC 6750 §3.1 error codes; `undefined` = no credentials were presented (plain challenge). */
export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | undefined;

export const REFUSALS = {
  missing_token: { status: 401, error: undefined, description: 'no bearer token' },
  // The request itself is unacceptable, whatever token it carries (RFC 6750 §2: header method only).
  query_token: { status: 401, error: 'invalid_request', description: 'tokens in the query string are not accepted' },
  basic_credentials: { status: 401, error: 'invalid_request', description: 'Basic credentials are not accepted' },
  unsupported_scheme: { status: 401, error: 'invalid_request', description: 'only the Bearer scheme is accepted' },
  duplicate_authorization: { status: 401, error: 'invalid_request', description: 'more than one Authorization header' },
  api_key_header: { status: 401, error: 'invalid_request', description: 'API keys are not accepted' },
  db_credentials: { status: 401, error: 'invalid_request', description: 'database credentials are not accepted' },
  // The token is not one we accept (RFC 6750 §3.1 invalid_token).
  malformed_token: { status: 401, error: 'invalid_token', description: 'the token is not a signed JWT' },
  alg_not_allowed: { status: 401, error: 'invalid_token', description: 'the token algorithm is not allowed' },
  unknown_kid: { status: 401, error: 'invalid_token', description: 'the token key is unknown' },
  bad_signature: { status: 401, error: 'invalid_token', description: 'the token signature is invalid' },
  wrong_issuer: { status: 401, error: 'invalid_token', description: 'the token issuer is not trusted' },
  wrong_audience: { status: 401, error: 'invalid_token', description: 'the token is not for this resource' },
  expired: { status: 401, error: 'invalid_token', description: 'the token has expired' },
  not_yet_valid: { status: 401, error: 'invalid_token', description: 'the token is not valid yet' },
  missing_claim: { status: 401, error: 'invalid_token', description: 'the token lacks a required claim' },
  not_access_token: { status: 401, error: 'invalid_token', description: 'the token is not an access token' },
  // exp - iat beyond what the issuer hands out: a token minted with a stolen signing key, not one Keycloak issued.
  lifetime_too_long: { status: 401, error: 'invalid_token', description: 'the token lifetime exceeds the accepted maximum' },
  // Valid token, not enough rights (RFC 6750 §3.1 insufficient_scope, 403).
  missing_scope: { status: 403, error: 'insufficient_scope', description: 'the token lacks the required scope' },
  missing_role: { status: 403, error: 'insufficient_scope', description: 'the user lacks the required role' },
  // Mcp-Name names a write tool on the read-only resource: step up to the read-write one (http/mcp-name.ts).
  write_tool_on_read_route: { status: 403, error: 'insufficient_scope', description: 'write tools are served by the read-write resource' },
  // Fail closed: nginx turns these into 500 and nothing reaches the MCP server.
  bad_route: { status: 500, error: undefined, description: 'no route from the edge' },
  jwks_unavailable: { status: 503, error: undefined, description: 'signing keys unavailable' },
} as const satisfies Record<string, { status: Status; error: BearerError; description: string }>;

export type RefusalCode = keyof typeof REFUSALS;

/** An expected refusal: thrown inside the verification pipeline, turned into an answer by the HTTP layer. */
export class Refusal extends Error {
  readonly code: RefusalCode;
  constructor(code: RefusalCode) {
    super(REFUSALS[code].description);
    this.code = code;
  }
}

/**
 * Access-token validation (RFC 9068 profile, as Keycloak issues them): signature by a key from the
 * issuer's JWKS, asymmetric algorithms only, exact issuer, `exp` and `iat` required (RFC 9068 §2.2), `nbf`/`iat`
 * within the allowed clock skew, a lifetime (`exp - iat`) no longer than the issuer grants, and an access
 * token rather than an ID or refresh token. Audience and rights are per route
 * (rights.ts), so a verified token can be cached once and checked against either route.
 */
import { jwtVerify, errors, decodeProtectedHeader, type JWTPayload } from 'jose';
import { Refusal } from '../errors.ts';
import type { SigningKeys } from '../jwks/remote.ts';

/** Asymmetric only: HS* would let anyone holding the public key forge tokens; `none` is no signature at all. */
export const ALLOWED_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export const CLOCK_SKEW_S = 60;
/**
 * The realm's access-token lifespan (keycloak/realm-mcp.json `accessTokenLifespan`, 300 s) plus the skew. A
 * token that claims to live longer was not issued by our realm as configured: e.g. one forged with a leaked
 * signing key and a one-year `exp`. A unit test keeps this equal to the realm file.
 */
export const DEFAULT_MAX_TOKEN_LIFETIME_S = 300 + CLOCK_SKEW_S;
// RFC 9068 §2.1 `at+jwt`; Keycloak writes `JWT`. Media types compare case-insensitively (RFC 2045).
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);

export interface VerifyOptions {
  issuer: string;
  keys: SigningKeys;
  /** Seconds since the epoch; injectable so tests freeze the clock. */
  now?: () => number;
  /** Longest accepted `exp - iat`, in seconds (default DEFAULT_MAX_TOKEN_LIFETIME_S). */
  maxLifetimeS?: number;
}

export type AccessToken = JWTPayload & { exp: number };

export async function verifyAccessToken(token: string, o: VerifyOptions): Promise<AccessToken> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new Refusal('malformed_token');
  }
  if (typeof header.alg !== 'string' || !(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg)) throw new Refusal('alg_not_allowed');
  if (header.typ !== undefined && !ACCEPTED_TYP.has(String(header.typ).toLowerCase())) throw new Refusal('not_access_token');
  const nowS = o.now?.() ?? Date.now() / 1000;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, o.keys.getKey, {
      issuer: o.issuer,
      algorithms: [...ALLOWED_ALGORITHMS],
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ['exp', 'iat'],
      currentDate: new Date(nowS * 1000),
    }));
  } catch (e) {
    throw toRefusal(e);
  }
  // jose accepts an `iat` in the future; a token from the future means a skewed or forged issuer clock.
  const iat = payload.iat as number; // required above, and jose checks it is a number
  if (iat > nowS + CLOCK_SKEW_S) throw new Refusal('not_yet_valid');
  if ((payload.exp as number) - iat > (o.maxLifetimeS ?? DEFAULT_MAX_TOKEN_LIFETIME_S)) throw new Refusal('lifetime_too_long');
  // Keycloak's own token type claim: ID tokens say "ID", refresh tokens "Refresh"; only "Bearer" is an access token.
  if (payload.typ !== 'Bearer') throw new Refusal('not_access_token');
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new Refusal('missing_claim');
  return payload as AccessToken;
}

function toRefusal(e: unknown): Refusal {
  if (e instanceof Refusal) return e;
  if (e instanceof errors.JWTExpired) return new Refusal('expired');
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'iss') return new Refusal('wrong_issuer');
    if (e.claim === 'nbf') return new Refusal('not_yet_valid');
    return new Refusal('missing_claim');
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return new Refusal('alg_not_allowed');
  if (e instanceof errors.JWSSignatureVerificationFailed) return new Refusal('bad_signature');
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return new Refusal('malformed_token');
  return new Refusal('malformed_token');
}

import type { TokenEndpointResponse } from 'openid-client';
import { AuthenticationError } from '../errors.js';
import type { Credentials } from '../tokens/credentials.js';
import { computeExpiresAt } from '../tokens/expiry.js';
import { accessTokenProblem, validateAccessToken } from '../tokens/validate.js';
import { idTokenOf } from './id-token.js';

/** Where a token response came from, for messages: `the token endpoint https://idp/token`. */
export function tokenEndpointSource(tokenEndpoint: string): string {
  return `the token endpoint ${tokenEndpoint}`;
}

// A value from the server, shown in a message: visible ASCII only, and short.
function quoted(value: string): string {
  return /^[\x21-\x7e]{1,32}$/.test(value) ? JSON.stringify(value) : 'an unprintable value';
}

function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? 'a string that is not a number' : `a ${typeof value}`;
}

// RFC 6749 §5.1: seconds, a number. Some servers (Azure AD v1) send it as a string of digits, which is accepted.
function expiresInProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const seconds = typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0) return undefined;
  return `answered with expires_in ${describeValue(seconds)}; expires_in must be a positive number of seconds`;
}

function tokenTypeProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'answered without a token_type; expected Bearer';
  const type = value.toLowerCase();
  if (type === 'bearer') return undefined;
  // RFC 9449: a DPoP-bound token sent as `Bearer` is refused by the server, or worse, accepted without the proof.
  if (type === 'dpop') {
    return 'issued a DPoP-bound token (token_type "DPoP"); flyte-grpc-auth sends tokens as Bearer only, so the identity provider must issue Bearer tokens to this client';
  }
  return `issued a token of type ${quoted(value)} (token_type); flyte-grpc-auth sends tokens as Bearer only`;
}

/**
 * Why a token endpoint's JSON answer cannot be used, or `undefined` when the fields this package relies on are fine:
 * a sendable `access_token`, `token_type` Bearer (any case), and `expires_in`, when present, a positive number of
 * seconds. The reason names the field and never quotes a token; it reads after `the token endpoint <url> `.
 */
export function tokenResponseProblem(body: Record<string, unknown>): string | undefined {
  const token = accessTokenProblem(body.access_token);
  if (token !== undefined) return `gave an access token that cannot be sent as a bearer token: ${token}`;
  return tokenTypeProblem(body.token_type) ?? expiresInProblem(body.expires_in);
}

/**
 * The credentials of a token response, checked before anything uses them (see {@link tokenResponseProblem}).
 * `previous` supplies the refresh and ID tokens an identity provider does not send again.
 * @throws AuthenticationError `ERR_BAD_TOKEN_RESPONSE` naming the token endpoint (never a token).
 */
export function credentialsFromTokenResponse(
  response: TokenEndpointResponse,
  forEndpoint: string,
  tokenEndpoint: string,
  previous?: Credentials,
): Credentials {
  const source = tokenEndpointSource(tokenEndpoint);
  const accessToken = validateAccessToken(response.access_token, source, tokenEndpoint);
  const problem = tokenResponseProblem(response);
  if (problem !== undefined) throw new AuthenticationError(`${source} ${problem}`, { code: 'ERR_BAD_TOKEN_RESPONSE', endpoint: tokenEndpoint });
  const credentials: Credentials = { accessToken, forEndpoint };
  // Identity providers that do not rotate send no refresh token: the old one stays valid.
  const refreshToken = response.refresh_token ?? previous?.refreshToken;
  if (refreshToken) credentials.refreshToken = refreshToken;
  const idToken = idTokenOf(response) ?? previous?.idToken;
  if (idToken) credentials.idToken = idToken;
  const expiresAt = computeExpiresAt(accessToken, response.expires_in);
  if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
  return credentials;
}

import type { TokenEndpointResponse } from 'openid-client';
import type { Credentials } from '../tokens/credentials.js';
import { computeExpiresAt } from '../tokens/expiry.js';
import { accessTokenProblem, validateAccessToken } from '../tokens/validate.js';

/** Where a token response came from, for messages: `the token endpoint https://idp/token`. */
export function tokenEndpointSource(tokenEndpoint: string): string {
  return `the token endpoint ${tokenEndpoint}`;
}

/**
 * Why a token endpoint's JSON answer cannot be used, or `undefined` when nothing is wrong with the fields this package
 * relies on. The reason names the field and never quotes a token.
 */
export function tokenResponseProblem(body: Record<string, unknown>): string | undefined {
  const token = accessTokenProblem(body.access_token);
  if (token !== undefined) return `gave an access token that cannot be sent as a bearer token: ${token}`;
  return undefined;
}

/**
 * The credentials of a token response, checked before anything uses them: the access token must be sendable as a
 * bearer token. `previous` supplies the refresh and ID tokens an identity provider does not send again.
 * @throws AuthenticationError `ERR_BAD_TOKEN_RESPONSE` naming the token endpoint (never a token).
 */
export function credentialsFromTokenResponse(
  response: TokenEndpointResponse,
  forEndpoint: string,
  tokenEndpoint: string,
  previous?: Credentials,
): Credentials {
  const accessToken = validateAccessToken(response.access_token, tokenEndpointSource(tokenEndpoint), tokenEndpoint);
  const credentials: Credentials = { accessToken, forEndpoint };
  // Identity providers that do not rotate send no refresh token: the old one stays valid.
  const refreshToken = response.refresh_token ?? previous?.refreshToken;
  if (refreshToken) credentials.refreshToken = refreshToken;
  const idToken = response.id_token ?? previous?.idToken;
  if (idToken) credentials.idToken = idToken;
  const expiresAt = computeExpiresAt(accessToken, response.expires_in);
  if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
  return credentials;
}

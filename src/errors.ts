import { safeCause } from './safe-cause.js';

/**
 * Stable codes callers can switch on. They never change meaning between versions.
 * - `ERR_OAUTH_RESPONSE`: the identity provider answered with an OAuth error (`oauthError` holds it).
 * - `ERR_IDP_UNREACHABLE`: the identity provider could not be reached (network, TLS, timeout, 5xx after retries).
 * - `ERR_BAD_TOKEN_RESPONSE`: the token endpoint answered, but not with a usable token.
 * - `ERR_CONFIG`: the configuration is incomplete or invalid.
 * - `ERR_COMMAND`: an external token command failed.
 * - `ERR_LOGIN`: an interactive login failed or was abandoned.
 * - `ERR_NOT_AVAILABLE`: the requested flow is not available.
 */
export type AuthenticationErrorCode =
  | 'ERR_OAUTH_RESPONSE'
  | 'ERR_IDP_UNREACHABLE'
  | 'ERR_BAD_TOKEN_RESPONSE'
  | 'ERR_CONFIG'
  | 'ERR_COMMAND'
  | 'ERR_LOGIN'
  | 'ERR_NOT_AVAILABLE';

export interface AuthenticationErrorOptions {
  code?: AuthenticationErrorCode;
  /** The OAuth `error` value (`invalid_client`, `invalid_grant`, …) when the identity provider sent one. */
  oauthError?: string | undefined;
  /** The URL or resource the failure concerns (token endpoint, config file, command). */
  endpoint?: string | undefined;
  /**
   * What went wrong underneath. Kept as a sanitised copy (see `safeCause`): the chain of errors with their names,
   * messages and codes, without responses, bodies or sockets that could hold a token or a secret.
   */
  cause?: unknown;
}

/**
 * Authentication failed. Neither the message nor anything reachable from the error (its `cause` chain included)
 * contains a secret or a token.
 */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError';
  readonly code: AuthenticationErrorCode;
  readonly oauthError: string | undefined;
  readonly endpoint: string | undefined;

  constructor(message: string, options: AuthenticationErrorOptions = {}) {
    const cause = safeCause(options.cause, (error) => error instanceof AuthenticationError);
    super(message, cause === undefined ? undefined : { cause });
    this.code = options.code ?? 'ERR_OAUTH_RESPONSE';
    this.oauthError = options.oauthError;
    this.endpoint = options.endpoint;
  }
}

/** No access token could be obtained from the refresh token (missing, or refused by the identity provider). */
export class AccessTokenNotFoundError extends AuthenticationError {
  override name = 'AccessTokenNotFoundError';
}

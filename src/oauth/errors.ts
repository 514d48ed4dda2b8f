import { ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { AuthenticationError, type AuthenticationErrorCode } from '../errors.js';

const UNREACHABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT']);

// The Response may come from npm undici (our customFetch), whose class is not the global one: check its shape.
function isResponse(value: unknown): value is Response {
  return value instanceof Response || (typeof value === 'object' && value !== null && typeof (value as Response).status === 'number' && 'headers' in value);
}

function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ResponseBodyError || error instanceof WWWAuthenticateChallengeError) return error.status;
  if (error instanceof ClientError && isResponse(error.cause)) return error.cause.status;
  return undefined;
}

function networkReason(error: Error): string {
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code}: ${cause.message}` : cause.message;
  }
  return error.message;
}

/**
 * Turns whatever openid-client or fetch threw into an {@link AuthenticationError} that names the endpoint and the
 * OAuth error. Secrets never reach the message: only server answers and transport errors are quoted.
 */
export function toAuthenticationError(error: unknown, what: string, endpoint: string): AuthenticationError {
  if (error instanceof AuthenticationError) return error;
  const at = `${what} ${endpoint}`;
  if (error instanceof ResponseBodyError) {
    const description = error.error_description ? `: ${error.error_description}` : '';
    return new AuthenticationError(`${at} answered HTTP ${error.status} ${error.error}${description}`, {
      code: 'ERR_OAUTH_RESPONSE',
      oauthError: error.error,
      endpoint,
      cause: error,
    });
  }
  if (error instanceof WWWAuthenticateChallengeError) {
    const parameters = error.cause[0]?.parameters;
    const oauthError = parameters?.error ?? 'invalid_client';
    const description = parameters?.error_description ? `: ${parameters.error_description}` : '';
    return new AuthenticationError(`${at} answered HTTP ${error.status} ${oauthError}${description}`, {
      code: 'ERR_OAUTH_RESPONSE',
      oauthError,
      endpoint,
      cause: error,
    });
  }
  const status = httpStatusOf(error);
  if (status !== undefined) {
    const code: AuthenticationErrorCode = status >= 500 || status === 429 ? 'ERR_IDP_UNREACHABLE' : 'ERR_BAD_TOKEN_RESPONSE';
    return new AuthenticationError(`${at} answered HTTP ${status} without a valid OAuth response`, { code, endpoint, cause: error });
  }
  if (error instanceof ClientError && UNREACHABLE_CODES.has(error.code ?? '')) {
    return new AuthenticationError(`${at} did not answer: ${error.message}`, { code: 'ERR_IDP_UNREACHABLE', endpoint, cause: error });
  }
  if (error instanceof TypeError && error.message === 'fetch failed') {
    return new AuthenticationError(`${at} is unreachable: ${networkReason(error)}`, {
      code: 'ERR_IDP_UNREACHABLE',
      endpoint,
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AuthenticationError(`${at} gave an unusable response: ${message}`, {
    code: 'ERR_BAD_TOKEN_RESPONSE',
    endpoint,
    cause: error,
  });
}

/** Whether a failed token request is worth repeating: network failures, timeouts, 5xx and 429. */
export function isTransient(error: AuthenticationError): boolean {
  if (error.code === 'ERR_IDP_UNREACHABLE') return true;
  return httpStatusOf(error.cause) === 429;
}

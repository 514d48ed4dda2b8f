import { ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { AuthenticationError, type AuthenticationErrorCode } from '../errors.js';

const UNREACHABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT']);

/** The HTTP status of a failed openid-client request, when the server answered. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ResponseBodyError || error instanceof WWWAuthenticateChallengeError) return error.status;
  // The cause is the HTTP response; it comes from whichever fetch was used (undici's or the global one), so no instanceof.
  const cause: unknown = error instanceof ClientError ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null && 'status' in cause && typeof cause.status === 'number') return cause.status;
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

// Certificate problems do not go away by asking again: fail at once instead of after every backoff.
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID/;

function isCertificateFailure(error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && CERTIFICATE_ERROR.test(code)) return true;
  }
  return false;
}

/** Whether a failed token request is worth repeating: network failures, timeouts, 5xx and 429, but not TLS trust. */
export function isTransient(error: AuthenticationError): boolean {
  if (error.code === 'ERR_IDP_UNREACHABLE') return !isCertificateFailure(error);
  return httpStatusOf(error.cause) === 429;
}

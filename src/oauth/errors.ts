import { AuthenticationError, type AuthenticationErrorCode } from '../errors.js';
import { sanitizeForTerminal } from '../terminal-text.js';
import { errorMessage } from '../util/error-message.js';
import { ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from './openid-client.js';
import { isProxyRefusal, PROXY_REFUSED } from './proxy-refusal.js';
import { ResponseBodyReadError, ResponseTooLargeError } from './bounded-response.js';
import { tokenResponseProblem } from './token-response.js';

const UNREACHABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT']);

/** The HTTP status of a failed openid-client request, when the server answered. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ResponseBodyError || error instanceof WWWAuthenticateChallengeError) return error.status;
  // The cause is the HTTP response; it comes from whichever fetch was used (undici's or the global one), so no instanceof.
  const cause: unknown = error instanceof ClientError ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null && 'status' in cause && typeof cause.status === 'number') return cause.status;
  // An AuthenticationError's cause is a sanitised copy (see safeCause): its links keep `status`, not their classes.
  for (const link of causeChain(error)) {
    // A refusing proxy's status (403, 407) is not the identity provider's answer: the request never reached it.
    if ((link as { code?: unknown }).code === PROXY_REFUSED) return undefined;
    const status = (link as { status?: unknown }).status;
    if (typeof status === 'number') return status;
  }
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
    // The identity provider's words end up on a terminal: no control characters, no novel-length descriptions.
    const description = error.error_description ? `: ${sanitizeForTerminal(error.error_description)}` : '';
    return new AuthenticationError(`${at} answered HTTP ${error.status} ${sanitizeForTerminal(error.error, 100)}${description}`, {
      code: 'ERR_OAUTH_RESPONSE',
      oauthError: error.error,
      endpoint,
      cause: error,
    });
  }
  if (error instanceof WWWAuthenticateChallengeError) {
    const parameters = error.cause[0]?.parameters;
    const oauthError = parameters?.error ?? 'invalid_client';
    const description = parameters?.error_description ? `: ${sanitizeForTerminal(parameters.error_description)}` : '';
    return new AuthenticationError(`${at} answered HTTP ${error.status} ${sanitizeForTerminal(oauthError, 100)}${description}`, {
      code: 'ERR_OAUTH_RESPONSE',
      oauthError,
      endpoint,
      cause: error,
    });
  }
  const bounded = boundedResponseError(error, at, endpoint);
  if (bounded) return bounded;
  const status = httpStatusOf(error);
  if (status !== undefined) {
    const code: AuthenticationErrorCode = isUnavailableStatus(status) ? 'ERR_IDP_UNREACHABLE' : 'ERR_BAD_TOKEN_RESPONSE';
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
  // openid-client's own checks of a 200 answer: they carry the parsed body, which tells the real reason.
  const body = rejectedBody(error);
  const problem = body && ('access_token' in body || 'token_type' in body) ? tokenResponseProblem(body) : undefined;
  if (problem !== undefined) return new AuthenticationError(`the ${at} ${problem}`, { code: 'ERR_BAD_TOKEN_RESPONSE', endpoint, cause: error });
  const message = innermostCheck(error) ?? errorMessage(error);
  return new AuthenticationError(`${at} gave an unusable response: ${message}`, {
    code: 'ERR_BAD_TOKEN_RESPONSE',
    endpoint,
    cause: error,
  });
}

const isUnavailableStatus = (status: number): boolean => status >= 500 || status === 429;

// Why a body stopped arriving: the deepest reason of the chain (`UND_ERR_SOCKET: other side closed`, a timeout).
function bodyReadReason(error: ResponseBodyReadError): string {
  const links = causeChain(error.cause);
  if (links.some((link) => link.name === 'TimeoutError')) return 'it stopped arriving before the request timed out';
  if (links.some((link) => link.name === 'AbortError')) return 'the request was aborted';
  const deepest = links.at(-1);
  if (!deepest) return 'the connection failed';
  const code = (deepest as NodeJS.ErrnoException).code;
  return code ? `${code}: ${deepest.message}` : deepest.message;
}

// The fetch wrapper's verdicts on the body (see bounded-response.ts), wherever openid-client put them in its chain.
function boundedResponseError(error: unknown, at: string, endpoint: string): AuthenticationError | undefined {
  const links = causeChain(error);
  const tooLarge = links.find((link): link is ResponseTooLargeError => link instanceof ResponseTooLargeError);
  if (tooLarge) {
    return new AuthenticationError(
      `${at} answered HTTP ${tooLarge.status} with a body larger than ${tooLarge.limit} bytes (1 MiB), which is no OAuth answer; the request was aborted`,
      { code: isUnavailableStatus(tooLarge.status) ? 'ERR_IDP_UNREACHABLE' : 'ERR_BAD_TOKEN_RESPONSE', endpoint, cause: error },
    );
  }
  const broken = links.find((link): link is ResponseBodyReadError => link instanceof ResponseBodyReadError);
  if (broken) {
    return new AuthenticationError(`${at} answered HTTP ${broken.status}, but its body broke off after ${broken.bytesRead} bytes: ${bodyReadReason(broken)}`, {
      code: 'ERR_IDP_UNREACHABLE',
      endpoint,
      cause: error,
    });
  }
  return undefined;
}

/** The links of an error's `cause` chain, outermost first (bounded: a cycle must not hang us). */
export function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let link: unknown = error; link instanceof Error && chain.length < 16; link = link.cause) chain.push(link);
  return chain;
}

// oauth4webapi attaches the JSON it refused as `cause: { body }` to its processing errors.
function rejectedBody(error: unknown): Record<string, unknown> | undefined {
  for (const link of causeChain(error)) {
    const cause: unknown = link.cause;
    if (typeof cause === 'object' && cause !== null && !(cause instanceof Error) && 'body' in cause) {
      const body: unknown = cause.body;
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
    }
  }
  return undefined;
}

// The deepest message of openid-client's chain (`"response" body "expires_in" property must be …`): the outer ones
// only say "invalid response encountered". These name a field, never its value.
function innermostCheck(error: unknown): string | undefined {
  const checks = causeChain(error).filter((link) => link.name === 'OperationProcessingError' || link.name === 'UnsupportedOperationError');
  return checks.at(-1)?.message.replace(/^"response" body /, '');
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
  if (error.code === 'ERR_IDP_UNREACHABLE') return !isCertificateFailure(error) && !isProxyRefusal(error);
  // The cause is a sanitised copy (see safeCause): its links keep `status`, not their classes.
  return causeChain(error.cause).some((link) => (link as { status?: unknown }).status === 429);
}

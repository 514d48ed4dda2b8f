import { AuthenticationError } from '../errors.js';
import { StatusCode, type CallStatus } from './status-codes.js';

/** How the details of a call that ended without a token begin (an outer interceptor tells it from a server rejection). */
export const TOKEN_FAILURE_DETAILS_PREFIX = 'failed to obtain access token: ';

/** The details of a call whose deadline passed while it waited for a token. */
export const TOKEN_DEADLINE_DETAILS = 'Deadline exceeded while obtaining access token';

/** The details of a call cancelled (by its `AbortSignal`) while it waited for a token. */
export const TOKEN_CANCELLED_DETAILS = 'Cancelled while obtaining access token';

/** The details grpc-js gives calls that had not started when their channel closed; ours say the same. */
export const CHANNEL_CLOSED_DETAILS = 'Channel closed before call started';

const REDACTED = '[REDACTED]';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The status of a call that ended because no token could be obtained: `UNAVAILABLE` when the identity provider
 * could not be reached (`ERR_IDP_UNREACHABLE`, worth retrying later), else `UNAUTHENTICATED`; the details are
 * {@link TOKEN_FAILURE_DETAILS_PREFIX} and the error's message (authenticator messages never hold a token).
 */
export function statusForTokenFailure(error: unknown): CallStatus {
  const unreachable = error instanceof AuthenticationError && error.code === 'ERR_IDP_UNREACHABLE';
  return {
    code: unreachable ? StatusCode.UNAVAILABLE : StatusCode.UNAUTHENTICATED,
    details: `${TOKEN_FAILURE_DETAILS_PREFIX}${messageOf(error)}`,
  };
}

/** `DEADLINE_EXCEEDED`: the call's deadline passed while it waited for a token (initial or after a rejection). */
export function tokenDeadlineStatus(): CallStatus {
  return { code: StatusCode.DEADLINE_EXCEEDED, details: TOKEN_DEADLINE_DETAILS };
}

/** `CANCELLED`: the call was cancelled while it waited for a token. */
export function tokenCancelledStatus(): CallStatus {
  return { code: StatusCode.CANCELLED, details: TOKEN_CANCELLED_DETAILS };
}

/** `UNAVAILABLE`: the client or channel was closed before the call (or its retry) could start. */
export function channelClosedStatus(): CallStatus {
  return { code: StatusCode.UNAVAILABLE, details: CHANNEL_CLOSED_DETAILS };
}

/**
 * `INTERNAL` for an unexpected exception while an attempt was opened (a bug in a custom authenticator, another
 * interceptor, or the transport), with the error's message. Every `secrets` string (the header value, the token)
 * is replaced by `[REDACTED]`: transports quote the offending value in their messages.
 */
export function internalErrorStatus(error: unknown, secrets: readonly (string | undefined)[] = []): CallStatus {
  return { code: StatusCode.INTERNAL, details: redact(messageOf(error), secrets) };
}

/** `text` with every non-empty `secrets` string replaced by `[REDACTED]`, longest first (a token inside its header value). */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  const present = secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
  present.sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of present) result = result.split(secret).join(REDACTED);
  return result;
}

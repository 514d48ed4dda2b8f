/**
 * The transport-neutral call policy: the rules every transport adapter (grpc-js, Connect, nice-grpc) applies to an
 * authenticated call. No transport is imported here; status codes are gRPC's numbers, which Connect shares.
 *
 * - When to wait for a token: `currentAuthMetadata()` synchronously (fast path), else {@link waitForToken} bounded
 *   by the call's deadline (any distance, {@link setLongTimeout}) and `AbortSignal`.
 * - What may go out: {@link checkAuthHeader} (legal non-binary key; token of visible ASCII).
 * - When a status is a rejection: {@link isAuthRejection} with an {@link AuthRejectionPredicate}
 *   (default {@link isUnauthenticated}).
 * - When a call is committed, what is replayed, when to retry: {@link AuthRetryPolicy}, {@link headersCommit},
 *   {@link ReplayBuffer} (bounded by messages and bytes).
 * - A rejection that cannot be retried: {@link refreshInBackground} (compare-and-refresh, errors dropped).
 * - Which status ends a call that could not start: {@link statusForTokenFailure}, {@link tokenDeadlineStatus},
 *   {@link tokenCancelledStatus}, {@link channelClosedStatus}, {@link internalErrorStatus}.
 */
export { StatusCode, type CallStatus } from './status-codes.js';
export type { AuthMetadata, TokenSource } from './token-source.js';
export { msUntil, type CallDeadline } from './deadline.js';
export { setLongTimeout, type LongTimer } from './long-timer.js';
export { waitForToken, type TokenWaitOptions, type TokenWaitResult } from './token-wait.js';
export { checkAuthHeader } from './auth-header.js';
export { isAuthRejection, isUnauthenticated, type AuthRejectionPredicate } from './auth-rejection.js';
export { headersCommit, type CallShape } from './commit-rule.js';
export { ReplayBuffer, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_BUFFERED_MESSAGES, type ReplayLimits } from './replay-buffer.js';
export { refreshInBackground } from './background-refresh.js';
export { AuthRetryPolicy, type RetrySettings, type StatusVerdict } from './retry-policy.js';
export {
  CHANNEL_CLOSED_DETAILS,
  TOKEN_CANCELLED_DETAILS,
  TOKEN_DEADLINE_DETAILS,
  TOKEN_FAILURE_DETAILS_PREFIX,
  channelClosedStatus,
  internalErrorStatus,
  redact,
  statusForTokenFailure,
  tokenCancelledStatus,
  tokenDeadlineStatus,
} from './call-statuses.js';

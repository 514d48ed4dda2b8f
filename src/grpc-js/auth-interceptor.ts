import { InterceptingCall, type Interceptor, type StatusObject } from '@grpc/grpc-js';
import type { Authenticator } from '../authenticators/authenticator.js';
import { isUnauthenticated } from '../call-policy/auth-rejection.js';
import { replayLimits } from '../call-policy/replay-options.js';
import { AuthenticationError } from '../errors.js';
import { AuthRetryCall, type AuthRetrySettings } from './auth-retry-call.js';

export interface AuthInterceptorOptions {
  /**
   * Request messages kept so that a client or bidi stream can be replayed after a refresh. A stream that sends more
   * before it commits (its response headers or first message) is simply not retried. Default 64.
   */
  maxBufferedMessages?: number | undefined;
  /**
   * Serialized request bytes kept for that replay, as grpc-js's own retry buffer (`grpc.per_rpc_retry_buffer_size`).
   * Counted for client and bidi streams (each message is serialized once more to measure it, until the call
   * commits); a unary or server-streaming call has one request message, which is not counted. Default 1 MiB.
   */
  maxBufferedBytes?: number | undefined;
  /**
   * Which statuses mean "these credentials were rejected", triggering one refresh and one retry.
   * Default: `UNAUTHENTICATED` only (PERMISSION_DENIED means forbidden, not "log in again").
   */
  isAuthRejection?: ((status: StatusObject) => boolean) | undefined;
}

/**
 * A grpc-js interceptor that authenticates every call type with `authenticator`: it sets
 * `<headerKey>: Bearer <token>` on a copy of the call's metadata and, when the server answers `UNAUTHENTICATED`
 * before the call commits, refreshes the credentials and retries the call exactly once.
 *
 * @example
 * const auth = createAuthInterceptor(authenticator);
 * const client = new EchoClient(address, credentials, { ...channelOptions, interceptors: [auth] });
 * @throws AuthenticationError `ERR_CONFIG` for a negative or fractional buffer bound.
 */
export function createAuthInterceptor(authenticator: Authenticator, options: AuthInterceptorOptions = {}): Interceptor {
  const isAuthRejection = options.isAuthRejection ?? isUnauthenticated;
  if (typeof isAuthRejection !== 'function') {
    throw new AuthenticationError('isAuthRejection must be a function', { code: 'ERR_CONFIG' });
  }
  const settings: AuthRetrySettings = {
    ...replayLimits(options),
    isAuthRejection,
  };
  return (callOptions, nextCall) => new InterceptingCall(new AuthRetryCall(callOptions, nextCall, authenticator, settings));
}

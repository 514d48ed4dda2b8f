import { InterceptingCall, status, type Interceptor, type StatusObject } from '@grpc/grpc-js';
import type { Authenticator } from '../authenticators/authenticator.js';
import { AuthRetryCall, type AuthRetrySettings } from './auth-retry-call.js';

export interface AuthInterceptorOptions {
  /**
   * Request messages kept so that a client or bidi stream can be replayed after a refresh. A stream that sends more
   * before its first response is simply not retried. Default 64.
   */
  maxBufferedMessages?: number | undefined;
  /**
   * Which statuses mean "these credentials were rejected", triggering one refresh and one retry.
   * Default: `UNAUTHENTICATED` only (PERMISSION_DENIED means forbidden, not "log in again").
   */
  isAuthRejection?: ((status: StatusObject) => boolean) | undefined;
}

const isUnauthenticated = (received: StatusObject): boolean => received.code === status.UNAUTHENTICATED;

/**
 * A grpc-js interceptor that authenticates every call type with `authenticator`: it sets
 * `<headerKey>: Bearer <token>` on a copy of the call's metadata and, when the server answers `UNAUTHENTICATED`
 * before any response message, refreshes the credentials and retries the call exactly once.
 *
 * @example
 * const auth = createAuthInterceptor(authenticator);
 * const client = new EchoClient(address, credentials, { ...channelOptions, interceptors: [auth] });
 */
export function createAuthInterceptor(authenticator: Authenticator, options: AuthInterceptorOptions = {}): Interceptor {
  const settings: AuthRetrySettings = {
    maxBufferedMessages: options.maxBufferedMessages ?? 64,
    isAuthRejection: options.isAuthRejection ?? isUnauthenticated,
  };
  return (callOptions, nextCall) => new InterceptingCall(new AuthRetryCall(callOptions, nextCall, authenticator, settings));
}

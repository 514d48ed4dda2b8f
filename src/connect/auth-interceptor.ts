import { Code, type ConnectError, type Interceptor, type StreamRequest, type UnaryRequest } from '@connectrpc/connect';
import type { Authenticator } from '../authenticators/authenticator.js';
import type { RetrySettings } from '../call-policy/index.js';
import { replayLimits } from '../call-policy/replay-options.js';
import { AuthenticationError } from '../errors.js';
import { ConnectAuthCall } from './auth-call.js';
import type { ConnectCallStatus } from './call-status.js';

/** Options of the Connect {@link createAuthInterceptor}: the grpc-js interceptor's, with Connect's error type. */
export interface AuthInterceptorOptions {
  /**
   * Request messages kept so that a client or bidi stream can be replayed after a refresh. A stream that sends more
   * before it commits (its response headers or first message) is simply not retried. Default 64.
   */
  maxBufferedMessages?: number | undefined;
  /**
   * Serialized request bytes kept for that replay (client and bidi streams; each message is serialized once more
   * to measure it, until the call commits). Default 1 MiB, as grpc-js's own retry buffer.
   */
  maxBufferedBytes?: number | undefined;
  /**
   * Which errors mean "these credentials were rejected", triggering one refresh and one retry. A predicate that
   * throws counts as "no". Default: `Code.Unauthenticated` only (`PermissionDenied` means forbidden, not "log in
   * again").
   */
  isAuthRejection?: ((error: ConnectError) => boolean) | undefined;
}

const isUnauthenticated = (error: ConnectError): boolean => error.code === Code.Unauthenticated;

/**
 * A Connect interceptor (`@connectrpc/connect` v2) that authenticates every call type with `authenticator`, as the
 * grpc-js interceptor does: it sets `<headerKey>: Bearer <token>` on a copy of the request headers and, when the
 * server rejects the credentials (`Code.Unauthenticated`) before the call commits, refreshes them
 * (compare-and-refresh: concurrent rejections share one token request) and retries the call exactly once,
 * replaying streamed request messages within the bounds. The call's `signal` (its `timeoutMs` included) ends the
 * wait for a token. A token that cannot be obtained ends the call with a `ConnectError`: `unauthenticated`, or
 * `unavailable` when the identity provider is unreachable, its message naming the reason, never the token.
 *
 * @example
 * const transport = createGrpcTransport({ baseUrl, interceptors: [createAuthInterceptor(authenticator)] });
 * const identity = createClient(IdentityService, transport);
 * @throws AuthenticationError `ERR_CONFIG` for a negative or fractional buffer bound, or a predicate that is no function.
 */
export function createAuthInterceptor(authenticator: Authenticator, options: AuthInterceptorOptions = {}): Interceptor {
  const isAuthRejection = options.isAuthRejection ?? isUnauthenticated;
  if (typeof isAuthRejection !== 'function') throw new AuthenticationError('isAuthRejection must be a function', { code: 'ERR_CONFIG' });
  const settings: RetrySettings = {
    ...replayLimits(options),
    // The policy sees gRPC codes and details; the application's predicate sees the ConnectError itself.
    isAuthRejection: (status) => isAuthRejection((status as ConnectCallStatus).error),
  };
  return (next) => (req: UnaryRequest | StreamRequest) => {
    const call = new ConnectAuthCall(authenticator, settings, next, req);
    return req.stream ? call.stream(req) : call.unary(req);
  };
}

import type { Interceptor } from '@connectrpc/connect';
import type { Authenticator } from '../authenticators/authenticator.js';
import { createAuthInterceptor } from './auth-interceptor.js';
import { createProxyAuthInterceptor, isServerAuthRejection } from './proxy-auth.js';

/** Options of the Connect {@link createAuthInterceptors}. */
export interface AuthInterceptorsOptions {
  /** The admin (Flyte) authenticator: its token goes out under its header key. */
  authenticator: Authenticator;
  /** The proxy authenticator (`createProxyAuthenticator`), when the endpoint sits behind an authenticating proxy. */
  proxyAuthenticator?: Authenticator | undefined;
  /** Request messages kept for a replay, per interceptor. Default 64. */
  maxBufferedMessages?: number | undefined;
  /** Serialized request bytes kept for a replay, per interceptor. Default 1 MiB. */
  maxBufferedBytes?: number | undefined;
}

/**
 * The Connect interceptors for a Flyte client, in flytekit's order: admin auth outside, proxy auth inside, so that
 * the proxy retries its own rejections before admin auth sees the result, and admin auth refreshes only on the
 * server's `unauthenticated`. Create them once and share them across transports: the authenticators hold the tokens.
 *
 * @example
 * const transport = createGrpcTransport({ baseUrl, interceptors: createAuthInterceptors({ authenticator, proxyAuthenticator }) });
 */
export function createAuthInterceptors(options: AuthInterceptorsOptions): Interceptor[] {
  const { authenticator, proxyAuthenticator, maxBufferedMessages, maxBufferedBytes } = options;
  if (!proxyAuthenticator) return [createAuthInterceptor(authenticator, { maxBufferedMessages, maxBufferedBytes })];
  return [
    createAuthInterceptor(authenticator, { maxBufferedMessages, maxBufferedBytes, isAuthRejection: isServerAuthRejection }),
    createProxyAuthInterceptor(proxyAuthenticator, { maxBufferedMessages, maxBufferedBytes }),
  ];
}

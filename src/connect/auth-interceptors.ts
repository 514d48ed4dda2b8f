import type { Interceptor } from '@connectrpc/connect';
import { adminThenProxy, type AuthInterceptorsOptions } from '../call-policy/admin-then-proxy.js';
import { createAuthInterceptor } from './auth-interceptor.js';
import { createProxyAuthInterceptor, isServerAuthRejection } from './proxy-auth.js';

export type { AuthInterceptorsOptions } from '../call-policy/admin-then-proxy.js';

/**
 * The Connect interceptors for a Flyte client, in flytekit's order: admin auth outside, proxy auth inside, so that
 * the proxy retries its own rejections before admin auth sees the result, and admin auth refreshes only on the
 * server's `unauthenticated`. Create them once and share them across transports: the authenticators hold the tokens.
 *
 * @example
 * const transport = createGrpcTransport({ baseUrl, interceptors: createAuthInterceptors({ authenticator, proxyAuthenticator }) });
 */
export function createAuthInterceptors(options: AuthInterceptorsOptions): Interceptor[] {
  return adminThenProxy(options, { create: createAuthInterceptor, createProxy: createProxyAuthInterceptor, isServerAuthRejection });
}

import type { Interceptor } from '@grpc/grpc-js';
import { adminThenProxy, type AuthInterceptorsOptions } from '../call-policy/admin-then-proxy.js';
import { createAuthInterceptor } from './auth-interceptor.js';
import { createProxyAuthInterceptor, isServerAuthRejection } from './proxy-auth.js';

export type { AuthInterceptorsOptions } from '../call-policy/admin-then-proxy.js';

/**
 * The interceptors for a Flyte client, in flytekit's order: admin auth outside, proxy auth inside (§5.1), so that the
 * proxy retries its own rejections before admin auth sees the result, and admin auth refreshes only on the
 * server's UNAUTHENTICATED. Create them once and share them across stubs: the authenticators hold the tokens.
 *
 * @example
 * const interceptors = createAuthInterceptors({ authenticator, proxyAuthenticator });
 * const client = new AdminServiceClient(endpoint, createChannelCredentials(cfg), { interceptors });
 */
export function createAuthInterceptors(options: AuthInterceptorsOptions): Interceptor[] {
  return adminThenProxy(options, { create: createAuthInterceptor, createProxy: createProxyAuthInterceptor, isServerAuthRejection });
}

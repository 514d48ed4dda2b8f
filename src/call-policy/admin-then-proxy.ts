import type { Authenticator } from '../authenticators/authenticator.js';
import type { ReplayOptions } from './replay-options.js';

/** The options of every adapter's `createAuthInterceptors`: the authenticators and the replay bounds. */
export interface AuthInterceptorsOptions extends ReplayOptions {
  /** The admin (Flyte) authenticator: its token goes out under its header key. */
  authenticator: Authenticator;
  /** The proxy authenticator (`createProxyAuthenticator`), when the endpoint sits behind an authenticating proxy. */
  proxyAuthenticator?: Authenticator | undefined;
}

/** What an adapter supplies to {@link adminThenProxy}: its interceptor factories and its server-rejection test. */
export interface AuthInterceptorFactories<I, S> {
  create: (authenticator: Authenticator, options: ReplayOptions & { isAuthRejection?: ((status: S) => boolean) | undefined }) => I;
  createProxy: (authenticator: Authenticator, options: ReplayOptions) => I;
  isServerAuthRejection: (status: S) => boolean;
}

/**
 * flytekit's order, for every transport: admin auth outside, proxy auth inside, so that the proxy retries its own
 * rejections before admin auth sees the result, and admin auth refreshes only on the server's rejection.
 */
export function adminThenProxy<I, S>(options: AuthInterceptorsOptions, factories: AuthInterceptorFactories<I, S>): I[] {
  const { authenticator, proxyAuthenticator, maxBufferedMessages, maxBufferedBytes } = options;
  const limits = { maxBufferedMessages, maxBufferedBytes };
  if (!proxyAuthenticator) return [factories.create(authenticator, limits)];
  return [
    factories.create(authenticator, { ...limits, isAuthRejection: factories.isServerAuthRejection }),
    factories.createProxy(proxyAuthenticator, limits),
  ];
}

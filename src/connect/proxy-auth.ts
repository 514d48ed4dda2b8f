import { Code, type ConnectError, type Interceptor } from '@connectrpc/connect';
import type { Authenticator } from '../authenticators/authenticator.js';
import { TOKEN_FAILURE_DETAILS_PREFIX } from '../call-policy/index.js';
import { createAuthInterceptor, type AuthInterceptorOptions } from './auth-interceptor.js';

// Connect turns an HTTP answer that is not the protocol's into `HTTP <status>` (`codeFromHttpStatus`, both the gRPC
// and the Connect protocol): 407 → unknown, 401 → unauthenticated. A server's own rejection carries its message.
const HTTP_407 = 'HTTP 407';
const HTTP_401 = 'HTTP 401';

/**
 * Whether a call was rejected by the proxy in front of the server rather than by the server: HTTP 407, or an HTTP 401
 * without a protocol error (over the Connect protocol a stream rejected by an HTTP middleware looks the same).
 */
export function isProxyRejection(error: ConnectError): boolean {
  return (error.code === Code.Unknown && error.rawMessage === HTTP_407) || (error.code === Code.Unauthenticated && error.rawMessage === HTTP_401);
}

/**
 * The admin interceptor's rejection test when a proxy interceptor sits inside it: `unauthenticated` from the server
 * only. A proxy rejection, or a proxy token that could not be obtained, is no reason for a new admin login.
 */
export function isServerAuthRejection(error: ConnectError): boolean {
  return error.code === Code.Unauthenticated && !isProxyRejection(error) && !error.rawMessage.startsWith(TOKEN_FAILURE_DETAILS_PREFIX);
}

/**
 * The Connect side of proxy authentication (flytekit's proxy interceptor): `proxy-authorization: Bearer <token>` on
 * every call and, when the proxy rejects a call, the proxy command again and one retry. Server rejections pass
 * through untouched. Put it **after** the admin interceptor (`interceptors: [adminAuth, proxyAuth]`, the first is the
 * outermost) and give the admin interceptor {@link isServerAuthRejection}, as {@link createAuthInterceptors} does.
 */
export function createProxyAuthInterceptor(proxyAuthenticator: Authenticator, options: Omit<AuthInterceptorOptions, 'isAuthRejection'> = {}): Interceptor {
  return createAuthInterceptor(proxyAuthenticator, { ...options, isAuthRejection: isProxyRejection });
}

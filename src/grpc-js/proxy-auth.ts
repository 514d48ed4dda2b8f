import { status, type Interceptor, type StatusObject } from '@grpc/grpc-js';
import type { Authenticator } from '../authenticators/authenticator.js';
import { createAuthInterceptor, type AuthInterceptorOptions } from './auth-interceptor.js';
import { TOKEN_FAILURE_DETAILS_PREFIX } from './status.js';

// grpc-js turns an HTTP answer without grpc-status into a status with exactly these details
// (`mapHttpStatusCode` in subchannel-call.ts): 407 → UNKNOWN, 401 → UNAUTHENTICATED. A gRPC server answers HTTP 200.
const HTTP_407_DETAILS = 'Received HTTP status code 407';
const HTTP_401_DETAILS = 'Received HTTP status code 401';

/**
 * Whether a call was rejected by the proxy in front of the server rather than by the server: HTTP 407, or an
 * HTTP 401 that carried no gRPC status (a gRPC server's UNAUTHENTICATED comes with HTTP 200).
 */
export function isProxyRejection(received: StatusObject): boolean {
  return (
    (received.code === status.UNKNOWN && received.details === HTTP_407_DETAILS) ||
    (received.code === status.UNAUTHENTICATED && received.details === HTTP_401_DETAILS)
  );
}

/**
 * The admin interceptor's rejection test when a proxy interceptor sits inside it: UNAUTHENTICATED from the server
 * only. A proxy rejection, or a proxy token that could not be obtained, is no reason for a new admin login.
 */
export function isServerAuthRejection(received: StatusObject): boolean {
  return received.code === status.UNAUTHENTICATED && !isProxyRejection(received) && !received.details.startsWith(TOKEN_FAILURE_DETAILS_PREFIX);
}

/**
 * The gRPC side of proxy authentication (flytekit's proxy `AuthUnaryInterceptor`): sets
 * `proxy-authorization: Bearer <token>` on every call and, when the proxy rejects a call, runs the proxy command
 * again and retries once. Server rejections pass through untouched. Put it **after** the admin interceptor
 * (`interceptors: [adminAuth, proxyAuth]`) and give the admin interceptor {@link isServerAuthRejection}.
 */
export function createProxyAuthInterceptor(
  proxyAuthenticator: Authenticator,
  options: Omit<AuthInterceptorOptions, 'isAuthRejection'> = {},
): Interceptor {
  return createAuthInterceptor(proxyAuthenticator, { ...options, isAuthRejection: isProxyRejection });
}

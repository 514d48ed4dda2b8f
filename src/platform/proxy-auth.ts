import { status, type Interceptor, type StatusObject } from '@grpc/grpc-js';
import type { Authenticator } from '../authenticators/authenticator.js';
import { CommandAuthenticator } from '../authenticators/command.js';
import { createAuthInterceptor, type AuthInterceptorOptions } from '../interceptor/auth-interceptor.js';
import { TOKEN_FAILURE_DETAILS_PREFIX } from '../interceptor/status.js';

/** The header a proxy token travels in, on gRPC calls and OAuth HTTP requests alike. */
export const PROXY_AUTHORIZATION_HEADER = 'proxy-authorization';

export interface ProxyAuthenticatorOptions {
  /** The proxy command and its arguments (flytekit's `proxy_command`), run without a shell; stdout is the token. */
  command: readonly string[];
  /** The command is stopped after this many milliseconds. Default 60000. */
  timeoutMs?: number | undefined;
  /** The endpoint behind the proxy (recorded in the credentials). Default `''`. */
  endpoint?: string | undefined;
}

/**
 * flytekit's `get_proxy_authenticator`: a {@link CommandAuthenticator} whose token goes out as
 * `proxy-authorization: Bearer <token>`. Share one instance between the gRPC proxy interceptor and the OAuth
 * requests (`OAuthHttpOptions.proxyAuthenticator`) so that the command runs once for both.
 */
export function createProxyAuthenticator(options: ProxyAuthenticatorOptions): CommandAuthenticator {
  return new CommandAuthenticator({
    command: options.command,
    timeoutMs: options.timeoutMs,
    endpoint: options.endpoint,
    headerKey: PROXY_AUTHORIZATION_HEADER,
    label: 'proxy command',
  });
}

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

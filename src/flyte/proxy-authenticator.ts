import { CommandAuthenticator } from '../authenticators/command.js';

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

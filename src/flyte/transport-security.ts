import type { Authenticator } from '../authenticators/authenticator.js';
import type { OAuthHttpOptions } from '../oauth/http.js';

/**
 * The transport settings shared by the gRPC channel and the OAuth HTTP requests; a structural subset of
 * `PlatformConfig`, so a whole platform config can be passed.
 */
export interface TransportSecurityConfig {
  /** Plaintext gRPC (h2c). The OAuth requests follow the identity provider's URL scheme. Default false. */
  insecure?: boolean | undefined;
  /** TLS without certificate or host name verification, for gRPC and OAuth. Default false. */
  insecureSkipVerify?: boolean | undefined;
  /** A PEM CA bundle trusted instead of the system roots, for gRPC and OAuth. */
  caCertFilePath?: string | undefined;
  /** An HTTP(S) proxy for the OAuth requests (flytectl's `httpProxyURL`). */
  httpProxyUrl?: string | undefined;
}

/** What {@link oauthHttpOptions} adds beyond the transport settings. */
export interface OAuthHttpExtras {
  /** Sent as `proxy-authorization` on every OAuth request (see `OAuthHttpOptions.proxyAuthenticator`). */
  proxyAuthenticator?: Authenticator | undefined;
}

/**
 * The same policy for the OAuth HTTP requests (token, device, refresh): `verify: false` for `insecureSkipVerify`, the
 * CA path for `caCertFilePath`, and `httpProxyUrl`. Go's client and flytekit apply these to gRPC only
 * (flyteorg/flyte#2531, #2371); here one config drives both.
 */
export function oauthHttpOptions(cfg: TransportSecurityConfig, extras: OAuthHttpExtras = {}): OAuthHttpOptions {
  const options: OAuthHttpOptions = {};
  if (cfg.insecureSkipVerify) options.verify = false;
  else if (cfg.caCertFilePath) options.verify = cfg.caCertFilePath;
  if (cfg.httpProxyUrl) options.httpProxyUrl = cfg.httpProxyUrl;
  if (extras.proxyAuthenticator) options.proxyAuthenticator = extras.proxyAuthenticator;
  return options;
}

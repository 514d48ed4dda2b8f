import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { Authenticator } from '../authenticators/authenticator.js';
import { readCaBundle, type OAuthHttpOptions } from '../oauth/http.js';

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

/**
 * The channel credentials for a Flyte endpoint, with flytekit's precedence: `insecure` (plaintext), then
 * `insecureSkipVerify` (TLS, nothing verified), then `caCertFilePath` (TLS trusting that CA), else TLS with the
 * system roots. Authentication is not part of them: it is an interceptor, so it works over plaintext too.
 * @throws AuthenticationError (`ERR_CONFIG`) naming the CA file when it cannot be read or holds no certificate.
 */
export function createChannelCredentials(cfg: TransportSecurityConfig): ChannelCredentials {
  if (cfg.insecure) return credentials.createInsecure();
  // grpc-js hands rejectUnauthorized to tls.connect and skips its own authorized check; Node then skips the host name
  // check as well. flytekit instead trusts the leaf it downloads, which fails for intermediate CAs (flyte-sdk#915).
  if (cfg.insecureSkipVerify) return credentials.createSsl(null, null, null, { rejectUnauthorized: false });
  if (cfg.caCertFilePath) return credentials.createSsl(readCaBundle(cfg.caCertFilePath));
  return credentials.createSsl();
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

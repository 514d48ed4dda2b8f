import type { Authenticator } from '../authenticators/authenticator.js';
import { ClientCredentialsAuthenticator } from '../authenticators/client-credentials.js';
import { CommandAuthenticator } from '../authenticators/command.js';
import { DeviceCodeAuthenticator, type DeviceCodePrompt } from '../authenticators/device-code.js';
import { PKCEAuthenticator, type OpenBrowser } from '../authenticators/pkce.js';
import type { ClientConfigStore } from './client-config.js';
import { AuthenticationError } from '../errors.js';
import { createTokenStore } from '../tokens/create-token-store.js';
import type { TokenStore } from '../tokens/token-store.js';
import { authFlowOf } from './auth-type.js';
import { oauthHttpOptions } from './transport-security.js';
import type { PlatformConfig } from './platform-config.js';

/** What the AUTH_MODE switch cannot read from the config: how to talk to the user, where to cache tokens. */
export interface GetAuthenticatorOptions {
  /**
   * Where credentials are kept. PKCE, device: default the OS keychain, else a file (`disableKeyring`: file). Client
   * credentials: default none; given one (a `RedisTokenStore` for a fleet), processes share one token.
   */
  tokenStore?: TokenStore | undefined;
  /** Opens the PKCE login page. Default: the system browser, else the URL is printed. */
  openBrowser?: OpenBrowser | undefined;
  /** Shows the device-code prompt. Default: printed to stderr. */
  onPrompt?: ((prompt: DeviceCodePrompt) => void | Promise<void>) | undefined;
  /** Sent as `proxy-authorization` on every OAuth request (see `createProxyAuthenticator`). */
  proxyAuthenticator?: Authenticator | undefined;
}

/**
 * The AUTH_MODE switch (flytekit's `get_authenticator`): the authenticator for `cfg.authMode`, with the TLS and proxy
 * settings of `cfg` applied to its OAuth requests too.
 *
 * | authMode | authenticator |
 * |---|---|
 * | `STANDARD`, `PKCE` | `PKCEAuthenticator` |
 * | `BASIC`, `CLIENT_CREDENTIALS`, `CLIENTSECRET` | `ClientCredentialsAuthenticator` |
 * | `EXTERNAL_PROCESS`, `EXTERNALCOMMAND` | `CommandAuthenticator` |
 * | `DEVICEFLOW` | `DeviceCodeAuthenticator` |
 *
 * @throws AuthenticationError (`ERR_CONFIG`) when the mode's required settings are missing.
 */
export function getAuthenticator(cfg: PlatformConfig, cfgStore: ClientConfigStore, options: GetAuthenticatorOptions = {}): Authenticator {
  const http = oauthHttpOptions(cfg, { proxyAuthenticator: options.proxyAuthenticator });
  const retry = { retries: cfg.maxRetries };
  // Local values win over the server's (flytekit ignores them for PKCE: flyteorg/flyte#3486, #3661).
  const local = {
    endpoint: cfg.endpoint,
    cfgStore,
    scopes: cfg.scopes,
    audience: cfg.useAudienceFromAdmin ? undefined : cfg.audience,
    headerKey: cfg.authorizationHeader,
  };
  // Only the login flows cache credentials: their store (keychain or file) is made only for them.
  const interactive = () => ({
    ...local,
    ...http,
    retry,
    clientId: cfg.clientId,
    tokenStore: options.tokenStore ?? createTokenStore({ disableKeyring: cfg.disableKeyring }),
  });
  switch (authFlowOf(cfg.authMode)) {
    case 'clientSecret':
      return new ClientCredentialsAuthenticator({
        ...local,
        ...http,
        retry,
        clientId: requireSetting(cfg, cfg.clientId, 'clientId', 'admin.clientId / FLYTE_CREDENTIALS_CLIENT_ID'),
        clientSecret: requireSetting(
          cfg,
          cfg.clientCredentialsSecret,
          'client secret',
          'admin.clientSecretLocation / admin.clientSecretEnvVar / FLYTE_CREDENTIALS_CLIENT_SECRET',
        ),
        tokenStore: options.tokenStore,
      });
    case 'externalCommand':
      if (!cfg.command?.length) {
        throw new AuthenticationError(
          `authMode ${cfg.authMode} needs a command (admin.command / FLYTE_CREDENTIALS_COMMAND)${sourceOf(cfg)}`,
          { code: 'ERR_CONFIG', endpoint: cfg.source },
        );
      }
      return new CommandAuthenticator({ command: cfg.command, endpoint: cfg.endpoint, headerKey: cfg.authorizationHeader, cfgStore });
    case 'deviceFlow':
      return new DeviceCodeAuthenticator({
        ...interactive(),
        onPrompt: options.onPrompt,
        timeoutMs: cfg.deviceFlowConfig.timeoutMs,
        pollIntervalMs: cfg.deviceFlowConfig.pollIntervalMs,
        refreshWindowMs: cfg.deviceFlowConfig.refreshTimeMs,
        expiryMarginMs: cfg.deviceFlowConfig.expiryMarginMs,
      });
    case 'pkce':
      return new PKCEAuthenticator({
        ...interactive(),
        openBrowser: options.openBrowser,
        timeoutMs: cfg.pkceConfig.timeoutMs,
        refreshWindowMs: cfg.pkceConfig.refreshTimeMs,
        expiryMarginMs: cfg.pkceConfig.expiryMarginMs,
      });
  }
}

function sourceOf(cfg: PlatformConfig): string {
  return cfg.source ? ` in ${cfg.source}` : '';
}

function requireSetting(cfg: PlatformConfig, value: string | undefined, what: string, keys: string): string {
  if (value) return value;
  throw new AuthenticationError(`authMode ${cfg.authMode} needs a ${what} (${keys})${sourceOf(cfg)}`, {
    code: 'ERR_CONFIG',
    endpoint: cfg.source,
  });
}

import * as oidc from 'openid-client';
import type { ClientConfig, ClientConfigStore } from '../flyte/client-config.js';
import { AuthenticationError } from '../errors.js';
import { createOAuthConfiguration, grantParameters } from '../oauth/configuration.js';
import { createOAuthFetch, type OAuthFetch, type OAuthHttpOptions } from '../oauth/http.js';
import { withTokenRetry, type TokenRetryOptions } from '../oauth/retry.js';
import { credentialsFromTokenResponse } from '../oauth/token-response.js';
import type { Credentials } from '../tokens/credentials.js';
import { Authenticator } from './authenticator.js';

export interface ClientCredentialsAuthenticatorOptions extends OAuthHttpOptions {
  /** The Flyte endpoint the token is for. */
  endpoint: string;
  clientId: string;
  clientSecret: string;
  /** Where the token endpoint, scopes, audience and header key come from. */
  cfgStore: ClientConfigStore;
  /** Used when the config store names no header key (the server's key wins, as in flytekit). */
  headerKey?: string | undefined;
  /** Requested scopes; when empty, the config store's scopes. */
  scopes?: string[] | undefined;
  /** The `audience` parameter (Auth0, Okta); when unset, the config store's audience. */
  audience?: string | undefined;
  /** How the client authenticates: HTTP Basic (RFC 6749 §2.3.1 encoding of id and secret, default) or form fields. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | undefined;
  /** Retries of transient token-endpoint failures. */
  retry?: TokenRetryOptions | undefined;
  /**
   * How long before expiry a new token is requested in the background (calls go on with the current one). Default:
   * the smaller of 60 s and 10% of its lifetime.
   */
  refreshWindowMs?: number | undefined;
  /** How long before expiry calls wait for the new token instead. Default: the smaller of 10 s and 5% of its lifetime. */
  expiryMarginMs?: number | undefined;
}

/**
 * OAuth2 client credentials (flytekit's `ClientCredentialsAuthenticator`): a confidential client trades its id and
 * secret for an access token, before the first call and again before the token expires.
 */
export class ClientCredentialsAuthenticator extends Authenticator {
  readonly #options: ClientCredentialsAuthenticatorOptions;
  readonly #fetch: OAuthFetch;

  constructor(options: ClientCredentialsAuthenticatorOptions) {
    if (!options.clientId || !options.clientSecret) {
      throw new AuthenticationError('Client ID and Client SECRET both are required.', { code: 'ERR_CONFIG' });
    }
    super({
      endpoint: options.endpoint,
      headerKey: options.headerKey,
      refreshWindowMs: options.refreshWindowMs,
      expiryMarginMs: options.expiryMarginMs,
    });
    this.#options = options;
    this.#fetch = createOAuthFetch(options);
  }

  protected override async obtainCredentials(): Promise<Credentials> {
    const config = await this.#options.cfgStore.getClientConfig();
    this.setHeaderKey(
      config.headerKey || this.#options.headerKey,
      config.headerKey ? `the client config of ${this.endpoint} (the server's authorization_metadata_key, or headerKey)` : 'the headerKey option',
    );
    const response = await withTokenRetry(
      () => oidc.clientCredentialsGrant(this.#configuration(config), this.#parameters(config)),
      'token endpoint',
      config.tokenEndpoint,
      this.#options.retry,
    );
    return credentialsFromTokenResponse(response, this.endpoint, config.tokenEndpoint);
  }

  #configuration(config: ClientConfig): oidc.Configuration {
    const { clientId, clientSecret, tokenEndpointAuthMethod } = this.#options;
    const clientAuth =
      tokenEndpointAuthMethod === 'client_secret_post' ? oidc.ClientSecretPost(clientSecret) : oidc.ClientSecretBasic(clientSecret);
    return createOAuthConfiguration(config, clientId, clientAuth, this.#fetch);
  }

  #parameters(config: ClientConfig): Record<string, string> {
    const scopes = this.#options.scopes?.length ? this.#options.scopes : config.scopes;
    return grantParameters(scopes, this.#options.audience || config.audience);
  }
}

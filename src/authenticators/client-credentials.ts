import * as oidc from 'openid-client';
import type { ClientConfig, ClientConfigStore } from '../flyte/client-config.js';
import { AuthenticationError } from '../errors.js';
import { createOAuthConfiguration, grantParameters } from '../oauth/configuration.js';
import { createOAuthFetch, type OAuthFetch, type OAuthHttpOptions } from '../oauth/http.js';
import { withTokenRetry, type TokenRetryOptions } from '../oauth/retry.js';
import type { Credentials } from '../tokens/credentials.js';
import { computeExpiresAt, defaultRefreshWindowMs } from '../tokens/expiry.js';
import { tokenStoreKey, type TokenStore } from '../tokens/token-store.js';
import { Authenticator, type RefreshReason } from './authenticator.js';
import { SharedToken } from './shared-token.js';

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
  /** How long before expiry the token is refreshed. Default: the smaller of 60 s and 10% of its lifetime. */
  refreshWindowMs?: number | undefined;
  /**
   * Shares the token with every process using the same store (a `RedisTokenStore` for a fleet of hosts): a fresh
   * token found there is used, else one process fetches under the store's lock for all. Default: none (each
   * authenticator fetches its own).
   */
  tokenStore?: TokenStore | undefined;
}

/**
 * OAuth2 client credentials (flytekit's `ClientCredentialsAuthenticator`): a confidential client trades its id and
 * secret for an access token, before the first call and again before the token expires.
 */
export class ClientCredentialsAuthenticator extends Authenticator {
  readonly #options: ClientCredentialsAuthenticatorOptions;
  readonly #fetch: OAuthFetch;
  readonly #shared: SharedToken | undefined;

  constructor(options: ClientCredentialsAuthenticatorOptions) {
    if (!options.clientId || !options.clientSecret) {
      throw new AuthenticationError('Client ID and Client SECRET both are required.', { code: 'ERR_CONFIG' });
    }
    super({ endpoint: options.endpoint, headerKey: options.headerKey, refreshWindowMs: options.refreshWindowMs });
    this.#options = options;
    this.#fetch = createOAuthFetch(options);
    this.#shared = options.tokenStore ? new SharedToken(options.tokenStore) : undefined;
  }

  protected override async obtainCredentials(previous: Credentials | undefined, reason: RefreshReason): Promise<Credentials> {
    const config = await this.#options.cfgStore.getClientConfig();
    this.setHeaderKey(config.headerKey || this.#options.headerKey);
    if (!this.#shared) return this.#fetchToken(config);
    return this.#shared.obtain({
      key: this.#storeKey(config),
      previous,
      reason,
      isFresh: (credentials) => this.#isFresh(credentials),
      fetch: () => this.#fetchToken(config),
    });
  }

  async #fetchToken(config: ClientConfig): Promise<Credentials> {
    const response = await withTokenRetry(
      () => oidc.clientCredentialsGrant(this.#configuration(config), this.#parameters(config)),
      'token endpoint',
      config.tokenEndpoint,
      this.#options.retry,
    );
    const credentials: Credentials = { accessToken: response.access_token, forEndpoint: this.endpoint };
    const expiresAt = computeExpiresAt(response.access_token, response.expires_in);
    if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
    return credentials;
  }

  // Valid beyond the refresh window, as a token this authenticator fetched itself would be.
  #isFresh(credentials: Credentials, now = Date.now()): boolean {
    const { expiresAt } = credentials;
    if (expiresAt === undefined) return true;
    return now < expiresAt - (this.#options.refreshWindowMs ?? defaultRefreshWindowMs(expiresAt - now));
  }

  // Endpoint + client id + the scopes and audience asked for: a token for other scopes is another token.
  #storeKey(config: ClientConfig): string {
    const { scope, audience } = this.#parameters(config);
    const asked = { ...(scope ? { scope: scope.split(' ').sort().join(' ') } : {}), ...(audience ? { audience } : {}) };
    const flow = Object.keys(asked).length ? `client_credentials ${JSON.stringify(asked)}` : 'client_credentials';
    return tokenStoreKey(this.endpoint, this.#options.clientId, flow);
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

import * as oidc from 'openid-client';
import type { ClientConfig, ClientConfigStore } from '../flyte/client-config.js';
import { AuthenticationError } from '../errors.js';
import { clientSecretBasic, type TokenEndpointAuthMethod } from '../oauth/client-auth.js';
import { createOAuthConfiguration, grantParameters } from '../oauth/configuration.js';
import { httpStatusOf } from '../oauth/errors.js';
import { createOAuthFetch, type OAuthFetch, type OAuthHttpOptions } from '../oauth/http.js';
import { withTokenRetry, type TokenRetryOptions } from '../oauth/retry.js';
import type { Credentials } from '../tokens/credentials.js';
import { computeExpiresAt } from '../tokens/expiry.js';
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
  /**
   * How the client authenticates: `client_secret_basic` (HTTP Basic, id and secret escaped as Go's `url.QueryEscape`,
   * as the Flyte Go client) or `client_secret_post` (form fields), used alone. Unset (auto): Basic first; when the
   * token endpoint refuses it (any 4xx but 407, 408 and 429), the same request once more with `client_secret_post`,
   * and the method that worked is kept for this authenticator (x/oauth2's auto-detection).
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod | undefined;
  /** Retries of transient token-endpoint failures. */
  retry?: TokenRetryOptions | undefined;
  /** How long before expiry the token is refreshed. Default: the smaller of 60 s and 10% of its lifetime. */
  refreshWindowMs?: number | undefined;
}

/**
 * OAuth2 client credentials (flytekit's `ClientCredentialsAuthenticator`): a confidential client trades its id and
 * secret for an access token, before the first call and again before the token expires.
 */
export class ClientCredentialsAuthenticator extends Authenticator {
  readonly #options: ClientCredentialsAuthenticatorOptions;
  readonly #fetch: OAuthFetch;
  // The method that worked with auto-detection, per token endpoint (a new config may name another one).
  #detected: { tokenEndpoint: string; method: TokenEndpointAuthMethod } | undefined;

  constructor(options: ClientCredentialsAuthenticatorOptions) {
    if (!options.clientId || !options.clientSecret) {
      throw new AuthenticationError('Client ID and Client SECRET both are required.', { code: 'ERR_CONFIG' });
    }
    super({ endpoint: options.endpoint, headerKey: options.headerKey, refreshWindowMs: options.refreshWindowMs });
    this.#options = options;
    this.#fetch = createOAuthFetch(options);
  }

  protected override async obtainCredentials(): Promise<Credentials> {
    const config = await this.#options.cfgStore.getClientConfig();
    this.setHeaderKey(config.headerKey || this.#options.headerKey);
    const response = await this.#requestToken(config);
    const credentials: Credentials = { accessToken: response.access_token, forEndpoint: this.endpoint };
    const expiresAt = computeExpiresAt(response.access_token, response.expires_in);
    if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
    return credentials;
  }

  async #requestToken(config: ClientConfig): Promise<oidc.TokenEndpointResponse> {
    const configured = this.#options.tokenEndpointAuthMethod;
    if (configured) return this.#grant(config, configured);
    const known = this.#detected?.tokenEndpoint === config.tokenEndpoint ? this.#detected.method : undefined;
    if (known) return this.#grant(config, known);
    let basicError: AuthenticationError;
    try {
      const response = await this.#grant(config, 'client_secret_basic');
      this.#detected = { tokenEndpoint: config.tokenEndpoint, method: 'client_secret_basic' };
      return response;
    } catch (error) {
      if (!(error instanceof AuthenticationError) || !isRefusal(error)) throw error;
      basicError = error;
    }
    try {
      const response = await this.#grant(config, 'client_secret_post');
      this.#detected = { tokenEndpoint: config.tokenEndpoint, method: 'client_secret_post' };
      return response;
    } catch (error) {
      // Basic is the default, so its answer leads; what the second try got is said too, unless it is the same.
      const first = basicError.message.replace(`token endpoint ${config.tokenEndpoint} `, '');
      const second = (error instanceof Error ? error.message : String(error)).replace(`token endpoint ${config.tokenEndpoint} `, '');
      const also = second === first ? 'client_secret_post was refused the same way' : `tried again with client_secret_post: ${second}`;
      throw new AuthenticationError(`${basicError.message} (${also})`, {
        code: basicError.code,
        oauthError: basicError.oauthError,
        endpoint: basicError.endpoint,
        cause: basicError,
      });
    }
  }

  #grant(config: ClientConfig, method: TokenEndpointAuthMethod): Promise<oidc.TokenEndpointResponse> {
    const { clientId, clientSecret } = this.#options;
    const clientAuth = method === 'client_secret_post' ? oidc.ClientSecretPost(clientSecret) : clientSecretBasic(clientSecret);
    const configuration = createOAuthConfiguration(config, clientId, clientAuth, this.#fetch);
    return withTokenRetry(
      () => oidc.clientCredentialsGrant(configuration, this.#parameters(config)),
      'token endpoint',
      config.tokenEndpoint,
      this.#options.retry,
    );
  }

  #parameters(config: ClientConfig): Record<string, string> {
    const scopes = this.#options.scopes?.length ? this.#options.scopes : config.scopes;
    return grantParameters(scopes, this.#options.audience || config.audience);
  }
}

// Statuses that say nothing about the client authentication method: proxy authentication, timeouts, rate limits.
const NOT_A_REFUSAL = new Set([407, 408, 429]);

/** Whether the token endpoint refused the request itself (a 4xx), which the other auth method may fix. */
function isRefusal(error: AuthenticationError): boolean {
  const status = httpStatusOf(error.cause);
  return status !== undefined && status >= 400 && status < 500 && !NOT_A_REFUSAL.has(status);
}

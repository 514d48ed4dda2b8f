import * as oidc from 'openid-client';
import type { ClientConfig, ClientConfigStore } from '../flyte/client-config.js';
import { AccessTokenNotFoundError, AuthenticationError } from '../errors.js';
import { createOAuthConfiguration, grantParameters } from '../oauth/configuration.js';
import { createOAuthFetch, type OAuthFetch, type OAuthHttpOptions } from '../oauth/http.js';
import { withTokenRetry, type TokenRetryOptions } from '../oauth/retry.js';
import type { Credentials } from '../tokens/credentials.js';
import { computeExpiresAt, isExpired } from '../tokens/expiry.js';
import { MemoryTokenStore, tokenStoreKey, type TokenStore } from '../tokens/token-store.js';
import { Authenticator, type AuthMetadata } from './authenticator.js';

/** Options both interactive flows (PKCE, device code) share. */
export interface InteractiveAuthenticatorOptions extends OAuthHttpOptions {
  /** The Flyte endpoint the credentials are for (part of the token cache key). */
  endpoint: string;
  /** Where the endpoints, client id, scopes, audience and header key come from. */
  cfgStore: ClientConfigStore;
  /** The gRPC metadata key for the token; wins over the config store's (flyteadmin: `flyte-authorization`). */
  headerKey?: string | undefined;
  /** The `audience` parameter (Auth0, Okta); wins over the config store's. */
  audience?: string | undefined;
  /** Requested scopes; when unset or empty, the config store's. */
  scopes?: string[] | undefined;
  /** The OAuth client id; wins over the config store's. */
  clientId?: string | undefined;
  /** Where credentials are cached between calls and processes. Default: a new `MemoryTokenStore`. */
  tokenStore?: TokenStore | undefined;
  /** Cancels a login in progress (and every later one). */
  signal?: AbortSignal | undefined;
  /** Retries of transient token-endpoint failures during a refresh. */
  retry?: TokenRetryOptions | undefined;
  /** How long before expiry the token is refreshed. Default: the smaller of 60 s and 10% of its lifetime. */
  refreshWindowMs?: number | undefined;
}

/** What a login flow works with: the resolved config and a ready openid-client configuration. */
export interface LoginContext {
  config: ClientConfig;
  clientId: string;
  configuration: oidc.Configuration;
  /** `scope` and `audience` of the login (never of a refresh), leaving out what is unset. */
  parameters: Record<string, string>;
  /** The caller's cancellation, if any. */
  signal: AbortSignal | undefined;
}

/** A store that can serialise refreshes across processes (the file store does). */
type LockingTokenStore = TokenStore & {
  withLock?: <T>(key: string, fn: () => Promise<T>) => Promise<T>;
};

/**
 * Base of the flows where a person logs in (PKCE, device code). Lazy like flytekit: without cached credentials the
 * first call goes out without a token and the login starts only when the server answers `UNAUTHENTICATED`. Cached
 * credentials are loaded from the token store on first use; renewals try the refresh token first and fall back to a
 * login only when the identity provider refuses it.
 */
export abstract class InteractiveAuthenticator extends Authenticator {
  readonly #options: InteractiveAuthenticatorOptions;
  readonly #flow: string;
  readonly #store: LockingTokenStore;
  readonly #fetch: OAuthFetch;
  #loaded = false;
  #loading: Promise<void> | undefined;
  #loginRequested = false;
  #rejectedHeader: string | undefined;
  #refusedRefreshToken: string | undefined;
  #warnedAboutStore = false;
  #forceLogin = false;

  protected constructor(options: InteractiveAuthenticatorOptions, flow: string) {
    super({ endpoint: options.endpoint, headerKey: options.headerKey, refreshWindowMs: options.refreshWindowMs });
    this.#options = options;
    this.#flow = flow;
    this.#store = options.tokenStore ?? new MemoryTokenStore();
    this.#fetch = createOAuthFetch(options);
  }

  /** Loads cached credentials once (under the right header key), then behaves as the base class. */
  override async fetchGrpcCallAuthMetadata(): Promise<AuthMetadata | undefined> {
    if (!this.#loaded) await (this.#loading ??= this.#load());
    return super.fetchGrpcCallAuthMetadata();
  }

  /**
   * Refreshes the credentials, or logs in when there is no usable refresh token (what a CLI `login` runs).
   * Concurrent callers share one login.
   */
  override async refreshCredentials(): Promise<Credentials> {
    this.#loginRequested = true;
    return super.refreshCredentials();
  }

  /** @internal */
  override async refreshAfterRejection(rejected: AuthMetadata | undefined): Promise<AuthMetadata | undefined> {
    // Remembered so that a refused refresh may start a login for a token the server refused, not for one still good.
    if (rejected) this.#rejectedHeader = rejected[1];
    return super.refreshAfterRejection(rejected);
  }

  /**
   * Runs the interactive login now (browser or device code), even when cached credentials or a refresh token exist,
   * and caches the result: what a CLI `login` runs. The cached credentials are replaced only when the login succeeds.
   */
  async forceLogin(): Promise<Credentials> {
    this.#forceLogin = true;
    try {
      let credentials = await this.refreshCredentials();
      // The flag survives when a renewal already in flight was joined (it may have used the refresh token): log in now.
      if (this.#forceLogin) credentials = await this.refreshCredentials();
      return credentials;
    } finally {
      this.#forceLogin = false;
    }
  }

  /**
   * The token store key of these credentials: endpoint + client id + flow. Without a local client id, the config
   * store's is used (which may ask the server).
   */
  async credentialsKey(): Promise<string> {
    const config = this.#options.clientId ? undefined : await this.#clientConfig();
    return this.#cacheKey(this.#options.clientId || config?.clientId);
  }

  /** Deletes the cached credentials of this endpoint + client id + flow and forgets the current ones. */
  async logout(): Promise<void> {
    const config = this.#options.clientId ? undefined : await this.#clientConfig();
    await this.#store.delete(this.#cacheKey(this.#options.clientId || config?.clientId));
    this.clearCredentials();
    this.#loaded = true;
  }

  protected override get obtainsCredentialsUpFront(): boolean {
    return false;
  }

  /** Runs the interactive part of the flow (browser, device code) and returns the token response. */
  protected abstract login(context: LoginContext): Promise<oidc.TokenEndpointResponse>;

  protected override async obtainCredentials(previous: Credentials | undefined): Promise<Credentials> {
    const loginAllowed = this.#loginAllowed(previous);
    const forced = this.#forceLogin;
    this.#forceLogin = false;
    const config = await this.#clientConfig();
    const clientId = this.#options.clientId || config.clientId;
    if (!clientId) {
      throw new AuthenticationError(`no client id for ${this.endpoint}: the client config has none and none was given (set \`clientId\`)`, {
        code: 'ERR_CONFIG',
      });
    }
    const key = this.#cacheKey(clientId);
    const context: LoginContext = {
      config,
      clientId,
      configuration: createOAuthConfiguration(config, clientId, oidc.None(), this.#fetch),
      parameters: grantParameters(this.#options.scopes?.length ? this.#options.scopes : config.scopes, this.#options.audience || config.audience),
      signal: this.#options.signal,
    };
    const run = (): Promise<Credentials> => (forced ? this.#login(context, key) : this.#obtain(context, key, previous, loginAllowed));
    try {
      // Inside the lock another process may have refreshed already: #obtain re-reads the store first.
      return typeof this.#store.withLock === 'function' ? await this.#store.withLock(key, run) : await run();
    } finally {
      this.#loaded = true;
    }
  }

  async #obtain(context: LoginContext, key: string, previous: Credentials | undefined, loginAllowed: boolean): Promise<Credentials> {
    const stored = await this.#read(key);
    if (stored && stored.accessToken !== previous?.accessToken && !isExpired(stored)) return stored;

    const source = stored ?? previous;
    const refreshToken = source?.refreshToken !== this.#refusedRefreshToken ? source?.refreshToken : undefined;
    let refusal: AuthenticationError | undefined;
    if (source && refreshToken) {
      try {
        // No `scope` and no `audience` (RFC 6749 §6: omitted means "as originally granted"): repeating the requested
        // scopes fails with `invalid_scope` wherever consent granted fewer (flytekit's PKCE refresh and Go's oauth2 agree).
        const response = await withTokenRetry(
          () => oidc.refreshTokenGrant(context.configuration, refreshToken),
          'token endpoint',
          context.config.tokenEndpoint,
          this.#options.retry,
        );
        // Identity providers that do not rotate send no refresh token: the old one stays valid.
        const credentials = this.#toCredentials(response, source);
        await this.#write(key, credentials);
        return credentials;
      } catch (error) {
        // Only a refusal ends the refresh token's life; network failures and 5xx keep everything as it is.
        if (!(error instanceof AuthenticationError) || error.oauthError !== 'invalid_grant') throw error;
        refusal = error;
        this.#refusedRefreshToken = refreshToken;
        if (stored?.refreshToken === refreshToken) await this.#remove(key);
      }
    }
    if (!loginAllowed) {
      // A proactive renewal of a token that still works: no browser now, the login starts when the token expires or is refused.
      throw new AccessTokenNotFoundError(
        refusal
          ? `the identity provider refused the refresh token for ${this.endpoint} (invalid_grant); a new login starts when the current token expires`
          : `no refresh token for ${this.endpoint}; a new login starts when the current token expires`,
        { code: refusal ? 'ERR_OAUTH_RESPONSE' : 'ERR_LOGIN', endpoint: context.config.tokenEndpoint, ...(refusal ? { oauthError: 'invalid_grant', cause: refusal } : {}) },
      );
    }
    return this.#login(context, key);
  }

  async #login(context: LoginContext, key: string): Promise<Credentials> {
    const response = await this.login(context);
    const credentials = this.#toCredentials(response, undefined);
    await this.#write(key, credentials);
    return credentials;
  }

  #loginAllowed(previous: Credentials | undefined): boolean {
    const requested = this.#loginRequested;
    this.#loginRequested = false;
    if (requested || !previous || isExpired(previous)) return true;
    return this.#rejectedHeader === `Bearer ${previous.accessToken}`;
  }

  async #load(): Promise<void> {
    try {
      // The key needs the client id; the config (and the server's header key) is fetched only when needed.
      let config = this.#options.clientId ? undefined : await this.#clientConfig();
      const stored = await this.#read(this.#cacheKey(this.#options.clientId || config?.clientId));
      if (!stored) return;
      // Cached credentials go out under the server's header key from the first call on.
      if (!config && !this.#options.headerKey) config = await this.#clientConfig();
      if (!this.getCredentials()) this.setCredentials(stored);
    } catch {
      // The config store failed: the call goes out without a token, and a rejection resolves the config again.
    } finally {
      this.#loaded = true;
    }
  }

  async #clientConfig(): Promise<ClientConfig> {
    const config = await this.#options.cfgStore.getClientConfig();
    this.setHeaderKey(this.#options.headerKey || config.headerKey);
    return config;
  }

  #cacheKey(clientId: string | undefined): string {
    return tokenStoreKey(this.endpoint, clientId, this.#flow);
  }

  #toCredentials(response: oidc.TokenEndpointResponse, previous: Credentials | undefined): Credentials {
    const credentials: Credentials = { accessToken: response.access_token, forEndpoint: this.endpoint };
    const refreshToken = response.refresh_token ?? previous?.refreshToken;
    if (refreshToken) credentials.refreshToken = refreshToken;
    const idToken = response.id_token ?? previous?.idToken;
    if (idToken) credentials.idToken = idToken;
    const expiresAt = computeExpiresAt(response.access_token, response.expires_in);
    if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
    return credentials;
  }

  // A broken store costs a login, never the call: failures are reported once and otherwise ignored.
  async #read(key: string): Promise<Credentials | undefined> {
    try {
      return await this.#store.get(key);
    } catch (error) {
      this.#warnStore('read', error);
      return undefined;
    }
  }

  async #write(key: string, credentials: Credentials): Promise<void> {
    try {
      await this.#store.set(key, credentials);
    } catch (error) {
      this.#warnStore('write', error);
    }
  }

  async #remove(key: string): Promise<void> {
    try {
      await this.#store.delete(key);
    } catch (error) {
      this.#warnStore('delete', error);
    }
  }

  #warnStore(operation: string, error: unknown): void {
    if (this.#warnedAboutStore) return;
    this.#warnedAboutStore = true;
    const reason = error instanceof Error ? error.message : String(error);
    process.emitWarning(`flyte-grpc-auth: cannot ${operation} cached credentials for ${this.endpoint}: ${reason}`, {
      code: 'FLYTE_GRPC_AUTH_TOKEN_STORE',
    });
  }
}

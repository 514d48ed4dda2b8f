import { DEFAULT_HEADER_KEY } from '../flyte/client-config.js';
import type { Credentials } from '../tokens/credentials.js';
import { defaultRefreshWindowMs, isExpired } from '../tokens/expiry.js';
import { validateAccessToken, validateHeaderKey } from '../tokens/validate.js';

import type { RefreshReason } from './refresh-reason.js';

export type { RefreshReason } from './refresh-reason.js';

/** A gRPC metadata entry: `[headerKey, "Bearer <token>"]`. */
export type AuthMetadata = readonly [key: string, value: string];

export interface AuthenticatorOptions {
  /** The Flyte (or other gRPC) endpoint the credentials are for. */
  endpoint: string;
  /**
   * The metadata key for the token; falsy means `authorization`. Checked here: a key that is not a legal text gRPC
   * metadata key (`0-9 a-z _ . -` after lower-casing, not `-bin`, not reserved) throws `ERR_CONFIG`.
   */
  headerKey?: string | undefined;
  /** Credentials to start with (for example from a token cache). */
  credentials?: Credentials | undefined;
  /** How long before expiry a token is refreshed. Default: the smaller of 60 s and 10% of the token's lifetime. */
  refreshWindowMs?: number | undefined;
}

// After a failed proactive refresh the still-valid token is used; wait this long before trying again.
const PROACTIVE_RETRY_DELAY_MS = 5_000;

/**
 * Base of every flow: holds the current credentials, obtains new ones one at a time (single flight) and tells the
 * interceptor which header to send. Subclasses implement {@link Authenticator.obtainCredentials}.
 */
export abstract class Authenticator {
  readonly endpoint: string;
  #headerKey: string;
  #credentials: Credentials | undefined;
  #header: AuthMetadata | undefined;
  #obtainedAt = 0;
  #refreshAt = Number.POSITIVE_INFINITY;
  #proactiveRetryAt = 0;
  #inflight: Promise<Credentials> | undefined;
  readonly #refreshWindowMs: number | undefined;

  protected constructor(options: AuthenticatorOptions) {
    this.endpoint = options.endpoint;
    this.#headerKey = options.headerKey ? validateHeaderKey(options.headerKey, 'the headerKey option') : DEFAULT_HEADER_KEY;
    this.#refreshWindowMs = options.refreshWindowMs;
    if (options.credentials) this.setCredentials(options.credentials, 'the credentials option');
  }

  /** The gRPC metadata key the token is sent under. */
  get headerKey(): string {
    return this.#headerKey;
  }

  /** The current credentials, or `undefined` before any were obtained. */
  getCredentials(): Credentials | undefined {
    return this.#credentials;
  }

  /**
   * Obtains new credentials now, even if the current ones are valid. Concurrent callers share one request.
   * @throws AuthenticationError when no credentials can be obtained.
   */
  async refreshCredentials(): Promise<Credentials> {
    return this.#refresh(this.#credentials === undefined ? 'initial' : this.#isExpired() ? 'expired' : 'rejected');
  }

  /**
   * The metadata entry for the current call, `[headerKey, "Bearer <token>"]`: obtains a token first when there is
   * none, refreshes one inside its refresh window, and returns `undefined` only for flows that log in lazily
   * (the call then goes out without a token and the login starts when the server asks for one).
   */
  async fetchGrpcCallAuthMetadata(): Promise<AuthMetadata | undefined> {
    const fresh = this.currentAuthMetadata();
    if (fresh) return fresh;
    const credentials = this.#credentials;
    if (credentials && !this.#isExpired()) {
      // Inside the refresh window: refresh now, but a failure is no reason to drop a token that still works.
      try {
        await this.#refresh('proactive');
      } catch {
        this.#proactiveRetryAt = Date.now() + PROACTIVE_RETRY_DELAY_MS;
      }
      return this.#header;
    }
    if (!credentials && !this.obtainsCredentialsUpFront) return undefined;
    await this.#refresh(credentials ? 'expired' : 'initial');
    return this.#header;
  }

  /**
   * The metadata entry when the current token can be used as is (valid and not due for refresh), else `undefined`.
   * Synchronous so that the interceptor's fast path adds no awaits.
   * @internal
   */
  currentAuthMetadata(): AuthMetadata | undefined {
    const now = Date.now();
    if (now < this.#refreshAt || (now < this.#proactiveRetryAt && !this.#isExpired(now))) return this.#header;
    return undefined;
  }

  /**
   * Compare-and-refresh after the server rejected `rejected`: joins a refresh in flight, returns the current header
   * when someone already replaced the rejected token, and refreshes otherwise.
   * @internal
   */
  async refreshAfterRejection(rejected: AuthMetadata | undefined): Promise<AuthMetadata | undefined> {
    if (this.#inflight) {
      await this.#inflight;
      return this.#header;
    }
    const current = this.#header;
    if (current && current !== rejected && !this.#isExpired()) return current;
    await this.#refresh(current === undefined ? 'initial' : 'rejected');
    return this.#header;
  }

  /** Whether the first call waits for a token (client credentials, commands) or goes out without one (logins). */
  protected get obtainsCredentialsUpFront(): boolean {
    return true;
  }

  /**
   * Runs the flow once. `previous` holds the credentials being replaced (for a refresh token); `reason` says why new
   * credentials are needed (for token stores shared between processes, and for diagnostics).
   */
  protected abstract obtainCredentials(previous: Credentials | undefined, reason: RefreshReason): Promise<Credentials>;

  /**
   * Switches the metadata key (from the client config, which may come from the server). `source` names where the key
   * came from in the `ERR_CONFIG` error thrown for a key that cannot carry a token.
   */
  protected setHeaderKey(headerKey: string | undefined, source = 'the client config (headerKey / authorization_metadata_key)'): void {
    const key = headerKey ? validateHeaderKey(headerKey, source) : DEFAULT_HEADER_KEY;
    if (key === this.#headerKey) return;
    this.#headerKey = key;
    if (this.#credentials) this.#header = [key, `Bearer ${this.#credentials.accessToken}`];
  }

  /**
   * Makes `credentials` current. `source` names where they came from in the `ERR_BAD_TOKEN_RESPONSE` error thrown when
   * the access token cannot be sent (subclasses check earlier, naming the endpoint, file or command).
   */
  protected setCredentials(credentials: Credentials, source = `the ${this.constructor.name} for ${this.endpoint || 'its endpoint'}`): void {
    validateAccessToken(credentials.accessToken, source);
    const now = Date.now();
    this.#credentials = credentials;
    this.#header = [this.#headerKey, `Bearer ${credentials.accessToken}`];
    this.#obtainedAt = now;
    this.#proactiveRetryAt = 0;
    const { expiresAt } = credentials;
    if (expiresAt === undefined) {
      this.#refreshAt = Number.POSITIVE_INFINITY;
    } else {
      const windowMs = this.#refreshWindowMs ?? defaultRefreshWindowMs(expiresAt - now);
      this.#refreshAt = expiresAt - windowMs;
    }
  }

  protected clearCredentials(): void {
    this.#credentials = undefined;
    this.#header = undefined;
    this.#refreshAt = Number.POSITIVE_INFINITY;
  }

  /** When the current credentials were obtained, in epoch ms (0 before any). */
  protected get credentialsObtainedAt(): number {
    return this.#obtainedAt;
  }

  #isExpired(now = Date.now()): boolean {
    return this.#credentials === undefined || isExpired(this.#credentials, now);
  }

  #refresh(reason: RefreshReason): Promise<Credentials> {
    if (this.#inflight) return this.#inflight;
    const inflight = this.obtainCredentials(this.#credentials, reason)
      .then((credentials) => {
        this.setCredentials(credentials);
        return credentials;
      })
      .finally(() => {
        if (this.#inflight === inflight) this.#inflight = undefined;
      });
    this.#inflight = inflight;
    return inflight;
  }
}

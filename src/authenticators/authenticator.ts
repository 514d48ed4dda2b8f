import { traceTokenRequest } from '../diagnostics/token-trace.js';
import { DEFAULT_HEADER_KEY } from '../flyte/client-config.js';
import type { Credentials } from '../tokens/credentials.js';
import { AuthenticationError } from '../errors.js';
import { defaultExpiryMarginMs, defaultRefreshWindowMs, isExpired } from '../tokens/expiry.js';
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
  /**
   * How long before expiry a refresh starts in the background, while calls go on with the current token. Default: the
   * smaller of 60 s and 10% of the token's lifetime.
   */
  refreshWindowMs?: number | undefined;
  /**
   * How long before expiry calls stop using the current token and wait for a new one (they never wait before). Default:
   * the smaller of 10 s and 5% of the token's lifetime.
   */
  expiryMarginMs?: number | undefined;
}

// After a failed refresh of a still-valid token, that token is used; wait this long before trying again.
const RETRY_DELAY_MS = 5_000;
// No new token is requested sooner than this after the last one (unless a call was rejected): an expiry that a skewed
// clock or a stale JWT `exp` puts in the past must not cost a token request per call.
const MIN_REQUEST_INTERVAL_MS = 5_000;
// A token that arrives with less than this left by our clock is taken to be judged by a skewed clock (see below).
const MIN_PLAUSIBLE_LIFETIME_MS = 1_000;

/**
 * How soon after obtaining credentials that live `lifetimeMs` (by this machine's clock) the next token request may
 * start, unless a call is rejected. A token that arrives already expired or about to expire has its expiry from
 * another clock (a JWT `exp` while this clock runs ahead): it is used for the full minimum interval, and the server
 * judges it. A plausible short lifetime (a 2 s token) is honoured: its renewal comes after half of it at the earliest.
 */
function minRequestIntervalMs(lifetimeMs: number | undefined): number {
  if (lifetimeMs === undefined || lifetimeMs < MIN_PLAUSIBLE_LIFETIME_MS) return MIN_REQUEST_INTERVAL_MS;
  return Math.min(MIN_REQUEST_INTERVAL_MS, lifetimeMs / 2);
}

function checkDuration(name: string, value: number | undefined): number | undefined {
  if (value === undefined || (typeof value === 'number' && value >= 0)) return value;
  throw new AuthenticationError(`${name} must be a number of milliseconds >= 0, got ${String(value)}`, { code: 'ERR_CONFIG' });
}

/**
 * Base of every flow: holds the current credentials, obtains new ones one at a time (single flight) and tells the
 * interceptor which header to send. Subclasses implement {@link Authenticator.obtainCredentials}.
 *
 * A token's life, by this machine's clock: it is used as is until `refreshWindowMs` before expiry; from then on a
 * refresh runs in the background while calls keep using it (stale-while-revalidate); only from `expiryMarginMs` before
 * expiry (or after a rejection) do calls wait for the new token. A failed background refresh is tried again 5 s later
 * and never reaches a call while the token is valid.
 */
export abstract class Authenticator {
  readonly endpoint: string;
  #headerKey: string;
  #credentials: Credentials | undefined;
  #header: AuthMetadata | undefined;
  /** From here a background refresh starts. */
  #refreshAt = Number.POSITIVE_INFINITY;
  /** From here calls wait for a new token. */
  #staleAt = Number.POSITIVE_INFINITY;
  /** After a failed refresh of a valid token: no new attempt (and no waiting) before this. */
  #retryAt = 0;
  /** No token request before this, unless a call was rejected. */
  #nextRequestAt = 0;
  #inflight: Promise<Credentials> | undefined;
  #tokenEndpoint: string | undefined;
  readonly #refreshWindowMs: number | undefined;
  readonly #expiryMarginMs: number | undefined;

  protected constructor(options: AuthenticatorOptions) {
    this.endpoint = options.endpoint;
    this.#headerKey = options.headerKey ? validateHeaderKey(options.headerKey, 'the headerKey option') : DEFAULT_HEADER_KEY;
    this.#refreshWindowMs = checkDuration('refreshWindowMs', options.refreshWindowMs);
    this.#expiryMarginMs = checkDuration('expiryMarginMs', options.expiryMarginMs);
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
   * The metadata entry for the current call, `[headerKey, "Bearer <token>"]`. Waits only when there is no token that
   * may still be used: none yet, or the current one expired or inside its expiry margin (joining a refresh already in
   * flight). Returns `undefined` only for flows that log in lazily (the call then goes out without a token and the
   * login starts when the server asks for one).
   */
  async fetchGrpcCallAuthMetadata(): Promise<AuthMetadata | undefined> {
    const usable = this.currentAuthMetadata();
    if (usable) return usable;
    const credentials = this.#credentials;
    if (credentials && !this.#isExpired()) {
      // Inside the expiry margin: wait for the new token, but a failure is no reason to drop one that still works.
      await this.#refresh('proactive').catch(() => undefined);
      return this.#header;
    }
    if (!credentials && !this.obtainsCredentialsUpFront) return undefined;
    await this.#refresh(credentials ? 'expired' : 'initial');
    return this.#header;
  }

  /**
   * The metadata entry when the current token may be used without waiting, else `undefined`; starts the background
   * refresh once the token is inside its refresh window. Synchronous so that the interceptor's fast path adds no
   * awaits; never throws.
   * @internal
   */
  currentAuthMetadata(): AuthMetadata | undefined {
    const header = this.#header;
    if (!header) return undefined;
    const now = Date.now();
    // Just obtained, yet inside the margin or expired by our clock: the server judges it, a rejection refreshes at once.
    if (now < this.#staleAt || now < this.#nextRequestAt) {
      if (now >= this.#refreshAt) this.#refreshInBackground(now);
      return header;
    }
    // A refresh of this still-valid token just failed: keep using it until the next attempt is due.
    if (now < this.#retryAt && !this.#isExpired(now)) return header;
    return undefined;
  }

  /**
   * Resolves once the refresh in flight, if any, has settled (whether it succeeded or not): for one-shot callers, such
   * as the CLI's `token`, that would rather print the renewed token than the one a background refresh is replacing.
   * @internal
   */
  async refreshSettled(): Promise<void> {
    await this.#inflight?.catch(() => undefined);
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

  /**
   * The flow's name in diagnostics (`flyte-grpc-auth:token` messages, debug log, OpenTelemetry): `clientSecret`,
   * `pkce`, `deviceFlow`, `externalCommand`, `proxyCommand`; `custom` unless a subclass says otherwise.
   */
  protected get flow(): string {
    return 'custom';
  }

  /** Records where the flow gets its tokens (once the config store has told it), for diagnostics. */
  protected setTokenEndpoint(tokenEndpoint: string | undefined): void {
    if (tokenEndpoint) this.#tokenEndpoint = tokenEndpoint;
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
    this.#retryAt = 0;
    const { expiresAt } = credentials;
    if (expiresAt === undefined) {
      this.#refreshAt = Number.POSITIVE_INFINITY;
      this.#staleAt = Number.POSITIVE_INFINITY;
    } else {
      const lifetimeMs = expiresAt - now;
      this.#staleAt = expiresAt - (this.#expiryMarginMs ?? defaultExpiryMarginMs(lifetimeMs));
      // A window narrower than the margin means no background phase: calls wait from the margin on.
      this.#refreshAt = Math.min(expiresAt - (this.#refreshWindowMs ?? defaultRefreshWindowMs(lifetimeMs)), this.#staleAt);
    }
  }

  protected clearCredentials(): void {
    this.#credentials = undefined;
    this.#header = undefined;
    this.#nextRequestAt = 0;
    this.#refreshAt = Number.POSITIVE_INFINITY;
    this.#staleAt = Number.POSITIVE_INFINITY;
  }

  #isExpired(now = Date.now()): boolean {
    return this.#credentials === undefined || isExpired(this.#credentials, now);
  }

  // Starts a proactive refresh nobody waits for; its failure only schedules the next attempt (see #refresh).
  #refreshInBackground(now: number): void {
    if (this.#inflight || now < this.#nextRequestAt || now < this.#retryAt) return;
    this.#refresh('proactive').catch(() => undefined);
  }

  #refresh(reason: RefreshReason): Promise<Credentials> {
    if (this.#inflight) return this.#inflight;
    let obtained: Promise<Credentials>;
    try {
      obtained = traceTokenRequest(
        () => ({ flow: this.flow, endpoint: this.endpoint, tokenEndpoint: this.#tokenEndpoint, reason }),
        () => this.obtainCredentials(this.#credentials, reason),
      );
    } catch (error) {
      // A subclass that throws instead of rejecting must not throw out of the interceptor's synchronous fast path.
      obtained = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const inflight = obtained
      .then(
        (credentials) => {
          this.setCredentials(credentials);
          const now = Date.now();
          this.#nextRequestAt = now + minRequestIntervalMs(credentials.expiresAt === undefined ? undefined : credentials.expiresAt - now);
          return credentials;
        },
        (error: unknown) => {
          // The still-valid token goes on being used; the next proactive attempt waits (set before anyone can start one).
          if (reason === 'proactive') this.#retryAt = Date.now() + RETRY_DELAY_MS;
          throw error;
        },
      )
      .finally(() => {
        if (this.#inflight === inflight) this.#inflight = undefined;
      });
    this.#inflight = inflight;
    return inflight;
  }
}

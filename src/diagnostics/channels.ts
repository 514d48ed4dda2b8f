import diagnosticsChannel, { type TracingChannel } from 'node:diagnostics_channel';
import type { RefreshReason } from '../authenticators/refresh-reason.js';

/**
 * The `node:diagnostics_channel` names this package publishes on (see docs/observability.md for every field):
 * - `token`, a tracing channel (`tracing:flyte-grpc-auth:token:start|end|asyncStart|asyncEnd|error`) around every
 *   token request, with a {@link TokenRequestMessage};
 * - `login`, a tracing channel around every interactive login, with a {@link LoginMessage};
 * - `retry`, once per call retried after an auth rejection, with a {@link RetryMessage};
 * - `rejected`, for an auth rejection that reached the caller, with a {@link RejectedMessage};
 * - `store`, for token-store lock waits, fallbacks and warnings, with a {@link StoreMessage}.
 *
 * @example
 * import { subscribe, tracingChannel } from 'node:diagnostics_channel';
 * tracingChannel(DIAGNOSTICS_CHANNELS.token).subscribe({ asyncEnd: (message) => console.log(message) });
 * subscribe(DIAGNOSTICS_CHANNELS.retry, (message) => console.log(message));
 */
export const DIAGNOSTICS_CHANNELS = Object.freeze({
  token: 'flyte-grpc-auth:token',
  login: 'flyte-grpc-auth:login',
  retry: 'flyte-grpc-auth:retry',
  rejected: 'flyte-grpc-auth:rejected',
  store: 'flyte-grpc-auth:store',
} as const);

/**
 * Tells tokens apart in logs without giving one away: the token's length and the last 4 hex characters of its
 * SHA-256 (16 bits: enough to see "the same token again", useless for guessing it).
 */
export interface TokenFingerprint {
  length: number;
  /** The last 4 hex characters of the token's SHA-256. */
  sha256: string;
}

/** What a successful token request got, as published (never the token itself). */
export interface TokenRequestResult {
  /** When the new access token expires, in epoch ms; `undefined` when unknown (an opaque token without `expires_in`). */
  expiresAt: number | undefined;
  /** The new access token's fingerprint. */
  token: TokenFingerprint;
}

/**
 * The context object of the `token` tracing channel: one object per token request, the same object on every event.
 * `start` carries the first four fields; a success adds `result` before `asyncStart`, a failure adds `error`
 * (an `AuthenticationError`, which never holds a token or secret) before `error`.
 */
export interface TokenRequestMessage {
  /** The flow: `clientSecret`, `pkce`, `deviceFlow`, `externalCommand`, `proxyCommand`, or `custom` (a subclass). */
  flow: string;
  /** The Flyte (gRPC) endpoint the token is for. */
  endpoint: string;
  /** The token endpoint, once the flow knows it (it may learn it during the request: then it is set by the end). */
  tokenEndpoint: string | undefined;
  /** Why new credentials are needed. */
  reason: RefreshReason;
  /** Set on success. */
  result?: TokenRequestResult;
  /** Set on failure. */
  error?: unknown;
}

/** The context object of the `login` tracing channel (a person logs in: browser or device code). */
export interface LoginMessage {
  /** `pkce` or `deviceFlow`. */
  flow: string;
  /** The Flyte (gRPC) endpoint the login is for. */
  endpoint: string;
  /** Set on failure (an `AuthenticationError`). */
  error?: unknown;
}

/** Published on `retry` when a call is retried after an auth rejection (once per call at most). */
export interface RetryMessage {
  /** The full method path, `/package.Service/Method`. */
  method: string;
  /** The gRPC status code of the rejection (16 = `UNAUTHENTICATED`). */
  code: number;
  /** The status details, with any token replaced by its fingerprint, control characters escaped, at most 1000 characters. */
  details: string;
  /** The fingerprint of the token the rejected attempt carried; `undefined` when it carried none. */
  token: TokenFingerprint | undefined;
}

/** Published on `rejected` when an auth rejection reaches the caller, because the call could not be retried (again). */
export interface RejectedMessage extends RetryMessage {
  /** `true`: the call was retried once already and the retry was rejected too; `false`: no retry was possible. */
  retried: boolean;
}

/**
 * What happened in a token store:
 * - `lock-acquired`: the cross-process lock was taken (`waitMs`: how long it took, 0 when it was free);
 * - `lock-unavailable`: the lock could not be taken in time (or at all), so the work runs without it;
 * - `lock-lost`: a lock held was lost (the event loop was blocked too long, or its file was removed);
 * - `fallback`: the store gave up on its backend (the OS keychain) and uses its fallback from now on;
 * - `warning`: the store could not use its data (an unreadable or corrupt token file), or an authenticator could not
 *   read, write or delete cached credentials, and carries on without them.
 */
export type StoreEvent = 'lock-acquired' | 'lock-unavailable' | 'lock-lost' | 'fallback' | 'warning';

/** Published on `store`. */
export interface StoreMessage {
  /** Which store: `file`, `keyring`, `memory`, `custom` (a store of your own; other stores publish their own name). */
  store: string;
  event: StoreEvent;
  /** How long the caller waited for the event, in ms (0 when it did not wait). */
  waitMs: number;
  /** What went wrong, for the events that are about something going wrong (one line, never a token). */
  reason?: string | undefined;
}

// `TracingChannel#hasSubscribers` exists since Node 20.13 (we need 20.19), but @types/node 20 does not declare it.
type ObservedTracingChannel<Message extends object> = TracingChannel<unknown, Message> & { readonly hasSubscribers: boolean };

// Held here for the life of the process: the publishers check `hasSubscribers` on these objects before doing any work.
export const tokenChannel = diagnosticsChannel.tracingChannel<unknown, TokenRequestMessage>(DIAGNOSTICS_CHANNELS.token) as ObservedTracingChannel<TokenRequestMessage>;
export const loginChannel = diagnosticsChannel.tracingChannel<unknown, LoginMessage>(DIAGNOSTICS_CHANNELS.login) as ObservedTracingChannel<LoginMessage>;
export const retryChannel = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.retry);
export const rejectedChannel = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.rejected);
export const storeChannel = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.store);

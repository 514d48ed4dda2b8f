import { isAuthRejection, type AuthRejectionPredicate } from './auth-rejection.js';
import { refreshInBackground } from './background-refresh.js';
import { headersCommit, type CallShape } from './commit-rule.js';
import { ReplayBuffer, type ReplayLimits } from './replay-buffer.js';
import type { CallStatus } from './status-codes.js';
import type { AuthMetadata, TokenSource } from './token-source.js';

/** The settings one interceptor applies to every call. */
export interface RetrySettings<S extends CallStatus = CallStatus> extends ReplayLimits {
  /** Which statuses are auth rejections (default {@link isUnauthenticated}); a throwing predicate means "no". */
  isAuthRejection: AuthRejectionPredicate<S>;
}

/** What to do with an attempt's status: `retry` (refresh, then replay) or `final` (it is the call's status). */
export type StatusVerdict = 'retry' | 'final';

/**
 * One call's retry rules, transport-neutral (`T`: what the replay buffer keeps; `S`: the transport's status type):
 * at most one retry, on an auth rejection, while the call is neither committed (a response message; response
 * headers for request-streaming calls), nor cancelled, nor over the replay bound. A rejection it cannot retry still
 * refreshes the token in the background.
 *
 * @example
 * const policy = new AuthRetryPolicy<Message>(shape, settings);
 * policy.record(message, bytes);                          // each request message, as it is sent
 * if (policy.onHeaders()) deliverHeaders(); else hold();  // response headers
 * policy.onMessage();                                     // first response message: committed
 * if (policy.onStatus(status, auth, header) === 'retry') {
 *   const result = await waitForToken(auth.refreshAfterRejection(header), { deadline, signal });
 *   replay(policy.replay.take());
 * }
 */
export class AuthRetryPolicy<T, S extends CallStatus = CallStatus> {
  /** The request messages kept for the replay. */
  readonly replay: ReplayBuffer<T>;
  readonly #shape: CallShape;
  readonly #settings: RetrySettings<S>;
  #retried = false;
  #committed = false;
  #cancelled = false;

  constructor(shape: CallShape, settings: RetrySettings<S>) {
    this.#shape = shape;
    this.#settings = settings;
    this.replay = new ReplayBuffer<T>(settings);
  }

  /** Whether a rejection now could still be retried. */
  get canRetry(): boolean {
    return !this.#retried && !this.#committed && !this.#cancelled && this.replay.replayable;
  }

  /** Whether the call has committed (nothing held back any more, no retry). */
  get committed(): boolean {
    return this.#committed;
  }

  /** Keeps a request message for a replay (see {@link ReplayBuffer.add}); returns whether the call is still replayable. */
  record(entry: T, bytes?: number): boolean {
    return this.replay.add(entry, bytes);
  }

  /**
   * Response headers arrived. Returns `true` when they must reach the application now: they commit a
   * request-streaming call, and nothing is held back once a retry is impossible anyway. `false`: hold them until
   * the first message or the final status.
   */
  onHeaders(): boolean {
    if (headersCommit(this.#shape)) {
      this.commit();
      return true;
    }
    return !this.canRetry;
  }

  /** A response message arrived: the call is committed. */
  onMessage(): void {
    this.commit();
  }

  /** The application cancelled the call: never retried. */
  cancel(): void {
    this.#cancelled = true;
    this.replay.release();
  }

  /** No retry from now on; the replay buffer is released. */
  commit(): void {
    this.#committed = true;
    this.replay.release();
  }

  /**
   * An attempt sent with `header` ended with `status`. `retry` when it is an auth rejection the call can still
   * retry (the caller then waits for `source.refreshAfterRejection(header)` and replays {@link replay}); otherwise
   * `final`, after starting a background compare-and-refresh when the status was a rejection.
   */
  onStatus(status: S, source: TokenSource, header: AuthMetadata | undefined): StatusVerdict {
    if (this.#cancelled || !isAuthRejection(this.#settings.isAuthRejection, status)) return 'final';
    if (this.canRetry) {
      this.#retried = true;
      return 'retry';
    }
    refreshInBackground(source, header);
    return 'final';
  }
}

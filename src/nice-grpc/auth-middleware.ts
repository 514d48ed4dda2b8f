import { ClientError, Metadata, Status, type CallOptions, type ClientMiddleware, type ClientMiddlewareCall } from 'nice-grpc-common';
import type { Authenticator } from '../authenticators/authenticator.js';
import {
  AuthRetryPolicy,
  checkAuthHeader,
  internalErrorStatus,
  StatusCode,
  waitForToken,
  type AuthMetadata,
  type CallStatus,
  type RetrySettings,
  type TokenWaitResult,
} from '../call-policy/index.js';
import { RequestTee } from '../call-policy/request-tee.js';
import { replayLimits } from '../call-policy/replay-options.js';
import { AuthenticationError } from '../errors.js';
import { HeldEvents } from './held-events.js';

/** Options of {@link createAuthMiddleware}: the grpc-js interceptor's, with nice-grpc's error type. */
export interface AuthMiddlewareOptions {
  /**
   * Request messages kept so that a client or bidi stream can be replayed after a refresh. A stream that sends more
   * before it commits (its response headers or first message) is simply not retried. Default 64. (nice-grpc hands
   * a middleware no serializer, so there is no byte bound here.)
   */
  maxBufferedMessages?: number | undefined;
  /**
   * Which errors mean "these credentials were rejected", triggering one refresh and one retry. A predicate that
   * throws counts as "no". Default: `Status.UNAUTHENTICATED` only.
   */
  isAuthRejection?: ((error: ClientError) => boolean) | undefined;
}

/** A nice-grpc error as the call policy sees it, with the error itself for the application's predicate. */
interface NiceCallStatus extends CallStatus {
  readonly error: unknown;
}

function statusOf(error: unknown): NiceCallStatus {
  if (error instanceof ClientError) return { code: error.code, details: error.details, error };
  return { code: StatusCode.UNKNOWN, details: error instanceof Error ? error.message : String(error), error };
}

// What nice-grpc itself throws when a call's signal fires (abort-controller-x's `AbortError`, told by its name).
function abortError(): Error {
  return new DOMException('The operation has been aborted', 'AbortError');
}

const isUnauthenticated = (error: ClientError): boolean => error.code === Status.UNAUTHENTICATED;

type AnyCall = ClientMiddlewareCall<unknown, unknown>;
type Next = (request: unknown, options: CallOptions) => AsyncGenerator<unknown, unknown, undefined>;

/**
 * A nice-grpc client middleware that authenticates every call type with `authenticator`, as the grpc-js interceptor
 * does: `<headerKey>: Bearer <token>` on a copy of the call's metadata; on `UNAUTHENTICATED` before the call commits
 * (a response message; the response headers of a client or bidi stream), one compare-and-refresh and exactly one
 * retry, replaying streamed requests within `maxBufferedMessages`. The call's `signal` ends the wait for a token
 * (with nice-grpc's `AbortError`, so `nice-grpc-client-middleware-deadline` outside it reports `DEADLINE_EXCEEDED`);
 * a token that cannot be obtained ends the call with a `ClientError` (`UNAUTHENTICATED`, or `UNAVAILABLE` when the
 * identity provider is unreachable) whose details name the reason, never the token.
 *
 * @example
 * // The middleware added last is the outermost: add the deadline middleware after this one, so it bounds the token wait.
 * const client = createClientFactory().use(createAuthMiddleware(authenticator)).use(deadlineMiddleware).create(Service, channel);
 * @throws AuthenticationError `ERR_CONFIG` for a negative or fractional buffer bound, or a predicate that is no function.
 */
export function createAuthMiddleware(authenticator: Authenticator, options: AuthMiddlewareOptions = {}): ClientMiddleware {
  const isAuthRejection = options.isAuthRejection ?? isUnauthenticated;
  if (typeof isAuthRejection !== 'function') throw new AuthenticationError('isAuthRejection must be a function', { code: 'ERR_CONFIG' });
  const settings: RetrySettings = {
    ...replayLimits({ maxBufferedMessages: options.maxBufferedMessages }),
    // Only a ClientError is the server's (or the channel's) answer; anything else is no rejection.
    isAuthRejection: (status) => {
      const { error } = status as NiceCallStatus;
      return error instanceof ClientError && isAuthRejection(error);
    },
  };
  return async function* authMiddleware<Request, Response>(
    call: ClientMiddlewareCall<Request, Response>,
    callOptions: CallOptions,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const messages = authenticatedCall(authenticator, settings, call, callOptions);
    return yield* messages as AsyncGenerator<Response, Response | void, undefined>;
  };
}

async function* authenticatedCall(
  source: Authenticator,
  settings: RetrySettings,
  call: AnyCall,
  callOptions: CallOptions,
): AsyncGenerator<unknown, unknown, undefined> {
  const { signal } = callOptions;
  const path = call.method.path;
  const next: Next = (request, options) => call.next(request, options);
  const policy = new AuthRetryPolicy<unknown>({ requestStream: call.requestStream, responseStream: call.responseStream }, settings, path);
  const tee = call.requestStream
    ? new RequestTee<unknown>(call.request, (message) => {
        if (policy.replay.replayable) policy.record(message);
      })
    : undefined;
  let replayed: unknown[] = [];
  // Decided to retry: the failed attempt stops reading, and what it read is what the next one replays first.
  const replay = (): void => {
    replayed = policy.replay.take();
    tee?.pause();
  };

  let sent: AuthMetadata | undefined;
  // An exception rather than a status (a custom authenticator's bug, an inner middleware's): INTERNAL, as grpc-js
  // ends it, with the header redacted (an exception may quote it).
  const internal = (error: unknown): ClientError => {
    const value = sent?.[1];
    const status = internalErrorStatus(error, [value, value?.replace(/^Bearer /, '')]);
    return new ClientError(path, status.code, status.details);
  };
  const guarded = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      throw internal(error);
    }
  };
  const checked = (result: TokenWaitResult): AuthMetadata | undefined => {
    if (!result.ok) throw signal?.aborted ? abortError() : new ClientError(path, result.status.code, result.status.details);
    const invalid = result.header && checkAuthHeader(result.header);
    if (invalid) throw new ClientError(path, invalid.code, invalid.details);
    sent = result.header;
    return result.header;
  };
  // After a failed attempt: the header for the retry, or the attempt's error rethrown when there is none.
  const retryHeaderOrThrow = async (error: unknown, events: HeldEvents): Promise<AuthMetadata | undefined> => {
    if (signal?.aborted) policy.cancel();
    else if (!(error instanceof ClientError)) {
      events.deliver();
      throw internal(error);
    }
    if (policy.onStatus(statusOf(error), source, sent) !== 'retry') {
      events.deliver();
      throw error;
    }
    replay();
    const rejected = sent;
    return checked(await waitForToken(guarded(() => source.refreshAfterRejection(rejected)), { signal }));
  };

  try {
    const current = guarded(() => source.currentAuthMetadata());
    let header = checked(current ? { ok: true, header: current } : await waitForToken(guarded(() => source.fetchGrpcCallAuthMetadata()), { signal }));
    for (;;) {
      const events = new HeldEvents(callOptions, policy);
      const metadata = Metadata(callOptions.metadata);
      // `set`, not `append`: a stale value the caller left in its metadata is replaced, never sent twice.
      if (header) metadata.set(header[0], header[1]);
      const attempt = next(tee ? tee.attempt(replayed) : call.request, { ...callOptions, metadata, onHeader: events.onHeader, onTrailer: events.onTrailer });
      if (!call.responseStream) {
        let response: unknown;
        try {
          // A unary or client-streaming attempt yields nothing and returns the response.
          response = (await attempt.next()).value;
        } catch (error) {
          header = await retryHeaderOrThrow(error, events);
          continue;
        }
        policy.onMessage();
        events.deliver();
        return response;
      }
      let first: IteratorResult<unknown, unknown>;
      try {
        first = await attempt.next();
      } catch (error) {
        header = await retryHeaderOrThrow(error, events);
        continue;
      }
      policy.onMessage();
      events.deliver();
      return yield* streamRest(first, attempt, policy, source, sent);
    }
  } finally {
    tee?.close();
  }
}

/** The committed response stream: the first message, then the rest; a rejection now ends the call and refreshes in the background. */
async function* streamRest(
  first: IteratorResult<unknown, unknown>,
  attempt: AsyncGenerator<unknown, unknown, undefined>,
  policy: AuthRetryPolicy<unknown>,
  source: Authenticator,
  sent: AuthMetadata | undefined,
): AsyncGenerator<unknown, unknown, undefined> {
  let finished = false;
  try {
    if (first.done) {
      finished = true;
      return first.value;
    }
    yield first.value;
    for (;;) {
      let result: IteratorResult<unknown, unknown>;
      try {
        result = await attempt.next();
      } catch (error) {
        finished = true;
        policy.onStatus(statusOf(error), source, sent);
        throw error;
      }
      if (result.done) {
        finished = true;
        return result.value;
      }
      yield result.value;
    }
  } finally {
    // The application stopped reading early: end the call below (nice-grpc cancels it in its own `finally`).
    if (!finished) await attempt.return(undefined);
  }
}

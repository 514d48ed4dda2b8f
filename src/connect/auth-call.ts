import { toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { ConnectError, type StreamRequest, type StreamResponse, type UnaryRequest, type UnaryResponse } from '@connectrpc/connect';
import {
  AuthRetryPolicy,
  checkAuthHeader,
  internalErrorStatus,
  waitForToken,
  type AuthMetadata,
  type CallShape,
  type RetrySettings,
  type TokenSource,
} from '../call-policy/index.js';
import { abortedError, callStatusOf, toConnectError } from './call-status.js';
import { RequestTee } from '../call-policy/request-tee.js';

type Next = (req: UnaryRequest | StreamRequest) => Promise<UnaryResponse | StreamResponse>;
type Message = MessageShape<DescMessage>;

function shapeOf(req: UnaryRequest | StreamRequest): CallShape {
  const kind = req.method.methodKind;
  return {
    requestStream: kind === 'client_streaming' || kind === 'bidi_streaming',
    responseStream: kind === 'server_streaming' || kind === 'bidi_streaming',
  };
}

/** A copy of the call's headers with the token set: the caller's `Headers` are never touched, a stale value is replaced. */
function withAuthHeader(header: Headers, auth: AuthMetadata | undefined): Headers {
  const copy = new Headers(header);
  if (auth) copy.set(auth[0], auth[1]);
  return copy;
}

/**
 * One Connect call, seen from below as up to two attempts: the token first (bounded by the call's signal, which
 * carries its `timeoutMs`), then the attempt; on an auth rejection before the call commits (a response message; the
 * response headers of a request-streaming call), a compare-and-refresh and one replay. The rules are the call
 * policy's ({@link AuthRetryPolicy}); this class only maps them onto Connect's promises and async iterables.
 */
export class ConnectAuthCall {
  readonly #source: TokenSource;
  readonly #next: Next;
  readonly #policy: AuthRetryPolicy<Message>;
  readonly #signal: AbortSignal;
  #header: AuthMetadata | undefined;

  constructor(source: TokenSource, settings: RetrySettings, next: Next, req: UnaryRequest | StreamRequest) {
    this.#source = source;
    this.#next = next;
    this.#policy = new AuthRetryPolicy<Message>(shapeOf(req), settings, `/${req.service.typeName}/${req.method.name}`);
    this.#signal = req.signal;
  }

  async unary(req: UnaryRequest): Promise<UnaryResponse> {
    let header = await this.#firstHeader();
    for (;;) {
      try {
        return (await this.#next({ ...req, header: withAuthHeader(req.header, header) })) as UnaryResponse;
      } catch (error) {
        // A unary request is the caller's own object: nothing to buffer, the same message goes out again.
        header = await this.#retryHeaderOrThrow(error);
      }
    }
  }

  async stream(req: StreamRequest): Promise<StreamResponse> {
    const shape = shapeOf(req);
    const tee = new RequestTee<Message>(req.message, (message) => {
      // The byte bound needs a size; a streamed message is measured only while the call can still be replayed.
      if (this.#policy.replay.replayable) this.#policy.record(message, shape.requestStream ? toBinary(req.method.input, message).byteLength : undefined);
    });
    let header = await this.#firstHeader();
    let replayed: Message[] = [];
    // Decided to retry: the failed attempt stops reading, and what it read is what the next one replays first.
    const replay = (): void => {
      replayed = this.#policy.replay.take();
      tee.pause();
    };
    for (;;) {
      let res: StreamResponse;
      try {
        res = (await this.#next({ ...req, header: withAuthHeader(req.header, header), message: tee.attempt(replayed) })) as StreamResponse;
      } catch (error) {
        header = await this.#retryHeaderOrThrow(error, replay);
        continue;
      }
      if (this.#policy.onHeaders()) return this.#watched(res);
      // Unary-like responses: the headers wait for the first message, so a rejected attempt shows the app nothing.
      const iterator = res.message[Symbol.asyncIterator]();
      let first: IteratorResult<Message>;
      try {
        first = await iterator.next();
      } catch (error) {
        header = await this.#retryHeaderOrThrow(error, replay);
        continue;
      }
      this.#policy.onMessage();
      return this.#watched({ ...res, message: prepend(first, iterator) });
    }
  }

  async #firstHeader(): Promise<AuthMetadata | undefined> {
    // The fast path: a valid token is used without waiting.
    const current = this.#guarded(() => this.#source.currentAuthMetadata());
    if (current) return this.#checked({ ok: true, header: current });
    return this.#checked(await waitForToken(this.#guarded(() => this.#source.fetchGrpcCallAuthMetadata()), { signal: this.#signal }));
  }

  /** `run()`, where an exception (a custom authenticator's bug) ends the call `internal`, never a token in it. */
  #guarded<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw this.#internal(error);
    }
  }

  #internal(error: unknown): ConnectError {
    const value = this.#header?.[1];
    return toConnectError(internalErrorStatus(error, [value, value?.replace(/^Bearer /, '')]));
  }

  #checked(result: Awaited<ReturnType<typeof waitForToken>>): AuthMetadata | undefined {
    if (!result.ok) throw this.#signal.aborted ? abortedError(this.#signal) : toConnectError(result.status);
    const invalid = result.header && checkAuthHeader(result.header);
    if (invalid) throw toConnectError(invalid);
    this.#header = result.header;
    return result.header;
  }

  /**
   * After a failed attempt: the header for the retry, or the attempt's error rethrown when there is no retry.
   * `onRetry` runs as soon as the retry is decided, before the wait for a token.
   */
  async #retryHeaderOrThrow(error: unknown, onRetry?: () => void): Promise<AuthMetadata | undefined> {
    if (this.#signal.aborted) {
      this.#policy.cancel();
      throw error;
    }
    // An exception rather than a status (an interceptor after this one, the application's request stream): `internal`,
    // as grpc-js ends it, with the header redacted (an exception may quote it).
    if (!(error instanceof ConnectError)) throw this.#internal(error);
    if (this.#policy.onStatus(callStatusOf(error), this.#source, this.#header) !== 'retry') throw error;
    onRetry?.();
    const header = this.#header;
    return this.#checked(await waitForToken(this.#guarded(() => this.#source.refreshAfterRejection(header)), { signal: this.#signal }));
  }

  /** The response as the app gets it; a rejection while it streams ends the call as is, and refreshes in the background. */
  #watched(res: StreamResponse): StreamResponse {
    const policy = this.#policy;
    const source = this.#source;
    const header = this.#header;
    const messages = res.message;
    return {
      ...res,
      message: {
        [Symbol.asyncIterator]() {
          const iterator = messages[Symbol.asyncIterator]();
          return {
            async next() {
              try {
                const result = await iterator.next();
                if (!result.done) policy.onMessage();
                return result;
              } catch (error) {
                policy.onStatus(callStatusOf(error), source, header);
                throw error;
              }
            },
            async return(value?: unknown) {
              return (await iterator.return?.(value)) ?? { done: true, value: undefined };
            },
          };
        },
      },
    };
  }
}

/** `first`, then the rest of `iterator`: the peeked message goes back in front. */
function prepend<T>(first: IteratorResult<T>, iterator: AsyncIterator<T>): AsyncIterable<T> {
  let pending: IteratorResult<T> | undefined = first;
  return {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        if (pending) {
          const result = pending;
          pending = undefined;
          return result;
        }
        return iterator.next();
      },
      return: async (value?: unknown) => (await iterator.return?.(value)) ?? { done: true, value: undefined },
    }),
  };
}

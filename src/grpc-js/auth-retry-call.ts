import { Metadata, type InterceptingListener, type InterceptorOptions, type NextCall, type StatusObject } from '@grpc/grpc-js';
import type { Authenticator } from '../authenticators/authenticator.js';
import { checkAuthHeader } from '../call-policy/auth-header.js';
import { channelClosedStatus, internalErrorStatus } from '../call-policy/call-statuses.js';
import { AuthRetryPolicy, type RetrySettings } from '../call-policy/retry-policy.js';
import { StatusCode, type CallStatus } from '../call-policy/status-codes.js';
import type { AuthMetadata } from '../call-policy/token-source.js';
import { waitForToken, type TokenWaitResult } from '../call-policy/token-wait.js';
import { toStatusObject } from './status.js';

type DownstreamCall = ReturnType<NextCall>;
type MessageContext = Parameters<DownstreamCall['sendMessageWithContext']>[0];
type AuthContext = ReturnType<DownstreamCall['getAuthContext']>;

const NO_LISTENER: Partial<InterceptingListener> = {};

// What grpc-js's `Channel#createCall` throws once the channel (or its client) is closed.
const CHANNEL_SHUT_DOWN = 'Channel has been shut down';

/** What the call needs from the interceptor's settings. */
export type AuthRetrySettings = RetrySettings<StatusObject>;

/** A request message as the app sent it; kept for a replay until the call commits. */
class SentMessage {
  readonly message: unknown;
  readonly flags: number | undefined;
  #callback: (() => void) | undefined;

  constructor(context: MessageContext, message: unknown) {
    this.message = message;
    this.flags = context.flags;
    this.#callback = context.callback;
  }

  /** Runs the app's write callback; a replay, or a call ending with the write in flight, never fires it twice. */
  done(): void {
    const callback = this.#callback;
    this.#callback = undefined;
    callback?.();
  }
}

/** The strings an error message must not show: the header value and the token inside it. */
function secretsOf(header: AuthMetadata | undefined): string[] {
  if (!header) return [];
  const value = String(header[1]);
  return [value, value.slice(value.indexOf(' ') + 1)];
}

/**
 * One application call, seen from below as up to two attempts. It obtains the token (honouring the deadline and
 * cancellation while it waits), opens each attempt with `nextCall`, and on an auth rejection before the call
 * commits refreshes the credentials and replays the request once. The app sees only the final attempt. The rules
 * live in `call-policy`; this class maps them onto grpc-js's call layer. Nothing thrown below (or by the
 * authenticator) escapes: it ends this call with one status.
 */
export class AuthRetryCall implements DownstreamCall {
  readonly #options: InterceptorOptions;
  readonly #nextCall: NextCall;
  readonly #auth: Authenticator;
  readonly #policy: AuthRetryPolicy<SentMessage, StatusObject>;
  /** Serialized request size for the byte bound: request streams only (see `maxBufferedBytes`). */
  readonly #measure: boolean;

  #listener: Partial<InterceptingListener> = NO_LISTENER;
  #metadata: Metadata | undefined;
  #child: DownstreamCall | null = null;
  #header: AuthMetadata | undefined;
  /** Set while the call waits for a token; aborting it ends the wait (and its deadline timer). */
  #wait: AbortController | undefined;

  /** Messages not yet written on the current attempt. */
  #queue: SentMessage[] = [];
  #inflight: SentMessage | undefined;
  #halfClosed = false;
  #halfCloseSent = false;
  #readPending = false;

  #done = false;
  #heldMetadata: Metadata | null = null;
  #heldNullMessage = false;

  constructor(options: InterceptorOptions, nextCall: NextCall, auth: Authenticator, settings: AuthRetrySettings) {
    this.#options = options;
    this.#nextCall = nextCall;
    this.#auth = auth;
    const shape = options.method_definition;
    this.#policy = new AuthRetryPolicy(shape, settings);
    this.#measure = shape.requestStream && settings.maxBytes !== Number.POSITIVE_INFINITY;
  }

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.#metadata = metadata;
    if (listener) this.#listener = listener;
    let header: AuthMetadata | undefined;
    try {
      header = this.#auth.currentAuthMetadata();
    } catch (error) {
      this.#finish(internalErrorStatus(error));
      return;
    }
    if (header) this.#openAttempt(header);
    else this.#awaitHeader(() => this.#auth.fetchGrpcCallAuthMetadata());
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    const entry = new SentMessage(context, message);
    if (this.#done) {
      entry.done();
      return;
    }
    if (this.#policy.replay.replayable && !this.#policy.record(entry, this.#sizeOf(message))) this.#flushHeld();
    this.#queue.push(entry);
    this.#pump();
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  halfClose(): void {
    this.#halfClosed = true;
    this.#pump();
  }

  startRead(): void {
    this.#readPending = true;
    this.#child?.startRead();
  }

  cancelWithStatus(code: number, details: string): void {
    this.#policy.cancel();
    if (this.#child) this.#child.cancelWithStatus(code, details);
    else this.#finish({ code, details });
  }

  getPeer(): string {
    return this.#child?.getPeer() ?? 'unknown';
  }

  getAuthContext(): AuthContext {
    return this.#child?.getAuthContext() ?? null;
  }

  /** Waits for a token (first attempt or retry) within the call's deadline; nothing below enforces it before `nextCall`. */
  #awaitHeader(obtain: () => Promise<AuthMetadata | undefined>): void {
    let pending: Promise<AuthMetadata | undefined>;
    try {
      pending = obtain();
    } catch (error) {
      this.#finish(internalErrorStatus(error));
      return;
    }
    const wait = new AbortController();
    this.#wait = wait;
    waitForToken(pending, { deadline: this.#options.deadline, signal: wait.signal })
      .then((result: TokenWaitResult) => {
        if (this.#done || this.#wait !== wait) return;
        this.#wait = undefined;
        if (result.ok) this.#openAttempt(result.header);
        else this.#finish(result.status);
      })
      .catch((error: unknown) => this.#finish(internalErrorStatus(error, secretsOf(this.#header))));
  }

  #openAttempt(header: AuthMetadata | undefined): void {
    this.#header = header;
    const rejected = header ? checkAuthHeader(header) : undefined;
    if (rejected) {
      this.#finish(rejected);
      return;
    }
    let child: DownstreamCall;
    let metadata: Metadata;
    try {
      // A clone per attempt: the caller's Metadata is never touched, and `set` replaces any value already there.
      metadata = this.#metadata ? this.#metadata.clone() : new Metadata();
      if (header) metadata.set(header[0], header[1]);
      child = this.#nextCall(this.#options);
    } catch (error) {
      const closed = error instanceof Error && error.message === CHANNEL_SHUT_DOWN;
      this.#finish(closed ? channelClosedStatus() : internalErrorStatus(error, secretsOf(header)));
      return;
    }
    this.#child = child;
    try {
      child.start(metadata, new AttemptListener(this, child));
      if (this.#readPending) child.startRead();
      this.#pump();
    } catch (error) {
      this.#abandon(child);
      this.#finish(internalErrorStatus(error, secretsOf(header)));
    }
  }

  /** Detaches a broken attempt and cancels it, so that it neither reports to the app nor keeps a stream open. */
  #abandon(child: DownstreamCall): void {
    if (this.#child === child) this.#child = null;
    try {
      child.cancelWithStatus(StatusCode.INTERNAL, 'abandoned by the auth interceptor');
    } catch {
      // The attempt is already broken; the call ends with the original error.
    }
  }

  #pump(): void {
    const child = this.#child;
    if (!child) return;
    // grpc-js holds one message in flight per call layer: the next one goes out from the previous write callback.
    if (!this.#inflight) {
      const entry = this.#queue.shift();
      if (entry) {
        this.#inflight = entry;
        const context: MessageContext = {
          callback: () => {
            entry.done();
            if (child !== this.#child) return;
            this.#inflight = undefined;
            this.#pump();
          },
        };
        if (entry.flags !== undefined) context.flags = entry.flags;
        child.sendMessageWithContext(context, entry.message);
      }
    }
    if (this.#halfClosed && !this.#halfCloseSent && this.#queue.length === 0) {
      this.#halfCloseSent = true;
      child.halfClose();
    }
  }

  /** Serialized size of a request-stream message, for the replay byte bound; `undefined` when not measured. */
  #sizeOf(message: unknown): number | undefined {
    if (!this.#measure) return undefined;
    if (message instanceof Uint8Array) return message.byteLength;
    try {
      return this.#options.method_definition.requestSerialize(message).length;
    } catch {
      return undefined; // the layer below reports the serialization failure itself
    }
  }

  /** @internal */
  onMetadata(child: DownstreamCall, metadata: Metadata): void {
    if (child !== this.#child) return;
    if (this.#policy.onHeaders()) {
      this.#flushHeld();
      this.#listener.onReceiveMetadata?.(metadata);
    } else {
      this.#heldMetadata = metadata;
    }
  }

  /** @internal */
  onMessage(child: DownstreamCall, message: unknown): void {
    if (child !== this.#child) return;
    // The unary layer below reports "no message" as null before the status: keep it until the attempt is final.
    if (message === null && !this.#options.method_definition.responseStream && this.#policy.canRetry) {
      this.#heldNullMessage = true;
      return;
    }
    this.#policy.onMessage();
    this.#flushHeld();
    this.#readPending = false;
    this.#listener.onReceiveMessage?.(message);
  }

  /** @internal */
  onStatus(child: DownstreamCall, received: StatusObject): void {
    if (child !== this.#child) return;
    if (this.#policy.onStatus(received, this.#auth, this.#header) === 'retry') {
      this.#child = null;
      this.#heldMetadata = null;
      this.#heldNullMessage = false;
      this.#inflight = undefined;
      this.#halfCloseSent = false;
      this.#queue = this.#policy.replay.take();
      const rejected = this.#header;
      this.#awaitHeader(() => this.#auth.refreshAfterRejection(rejected));
      return;
    }
    this.#finish(received);
  }

  #flushHeld(): void {
    const metadata = this.#heldMetadata;
    this.#heldMetadata = null;
    if (metadata) this.#listener.onReceiveMetadata?.(metadata);
    if (this.#heldNullMessage) {
      this.#heldNullMessage = false;
      this.#listener.onReceiveMessage?.(null);
    }
  }

  /**
   * Ends the call once. A status from below is delivered at once; one the interceptor makes (token failure,
   * deadline, a broken attempt) on the next tick, as grpc-js does: the app may not have attached its listeners yet.
   */
  #finish(final: StatusObject | CallStatus): void {
    if (this.#done) return;
    this.#done = true;
    this.#policy.commit();
    const wait = this.#wait;
    this.#wait = undefined;
    wait?.abort();
    // Writes that never reached a server must not leave the app's stream waiting for their callbacks.
    const unwritten = this.#inflight ? [this.#inflight, ...this.#queue] : this.#queue;
    this.#inflight = undefined;
    this.#queue = [];
    const deliver = (status: StatusObject): void => {
      this.#flushHeld();
      for (const entry of unwritten) entry.done();
      this.#listener.onReceiveStatus?.(status);
    };
    if ('metadata' in final) deliver(final);
    else process.nextTick(deliver, toStatusObject(final));
  }
}

/** Routes one attempt's events to its call, which ignores them once the attempt is superseded. */
class AttemptListener implements InterceptingListener {
  readonly #call: AuthRetryCall;
  readonly #child: DownstreamCall;

  constructor(call: AuthRetryCall, child: DownstreamCall) {
    this.#call = call;
    this.#child = child;
  }

  onReceiveMetadata(metadata: Metadata): void {
    this.#call.onMetadata(this.#child, metadata);
  }

  onReceiveMessage(message: unknown): void {
    this.#call.onMessage(this.#child, message);
  }

  onReceiveStatus(received: StatusObject): void {
    this.#call.onStatus(this.#child, received);
  }
}

import { Metadata, status, type InterceptingListener, type InterceptorOptions, type NextCall, type StatusObject } from '@grpc/grpc-js';
import type { AuthMetadata, Authenticator } from '../authenticators/authenticator.js';
import { publishRejected, publishRetry } from '../diagnostics/call-events.js';
import { msUntil } from './deadline.js';
import { statusForTokenFailure } from './status.js';

type DownstreamCall = ReturnType<NextCall>;
type MessageContext = Parameters<DownstreamCall['sendMessageWithContext']>[0];
type AuthContext = ReturnType<DownstreamCall['getAuthContext']>;

const NO_LISTENER: Partial<InterceptingListener> = {};

/** What the call needs from the interceptor's settings. */
export interface AuthRetrySettings {
  maxBufferedMessages: number;
  isAuthRejection: (status: StatusObject) => boolean;
}

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

  /** Runs the app's write callback; a replay never fires it twice. */
  done(): void {
    const callback = this.#callback;
    this.#callback = undefined;
    callback?.();
  }
}

/**
 * One application call, seen from below as up to two attempts. It obtains the token (honouring the deadline and
 * cancellation while it waits), opens each attempt with `nextCall`, and on an auth rejection before any response
 * message refreshes the credentials and replays the request once. The app sees only the final attempt.
 */
export class AuthRetryCall implements DownstreamCall {
  readonly #options: InterceptorOptions;
  readonly #nextCall: NextCall;
  readonly #auth: Authenticator;
  readonly #settings: AuthRetrySettings;

  #listener: Partial<InterceptingListener> = NO_LISTENER;
  #metadata: Metadata | undefined;
  #child: DownstreamCall | null = null;
  #header: AuthMetadata | undefined;

  /** Every message sent so far, while a replay is still possible; `null` once it is not. */
  #log: SentMessage[] | null = [];
  #queue: SentMessage[] = [];
  #inflight = false;
  #halfClosed = false;
  #halfCloseSent = false;
  #readPending = false;

  #retried = false;
  #cancelled = false;
  #done = false;
  #heldMetadata: Metadata | null = null;
  #heldNullMessage = false;
  #deadlineTimer: NodeJS.Timeout | undefined;

  constructor(options: InterceptorOptions, nextCall: NextCall, auth: Authenticator, settings: AuthRetrySettings) {
    this.#options = options;
    this.#nextCall = nextCall;
    this.#auth = auth;
    this.#settings = settings;
  }

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.#metadata = metadata;
    if (listener) this.#listener = listener;
    const header = this.#auth.currentAuthMetadata();
    if (header) this.#openAttempt(header);
    else this.#awaitHeader(this.#auth.fetchGrpcCallAuthMetadata());
  }

  sendMessageWithContext(context: MessageContext, message: unknown): void {
    const entry = new SentMessage(context, message);
    if (this.#log) {
      if (this.#log.length < this.#settings.maxBufferedMessages) this.#log.push(entry);
      else this.#stopReplaying();
    }
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

  cancelWithStatus(code: status, details: string): void {
    this.#cancelled = true;
    if (this.#child) this.#child.cancelWithStatus(code, details);
    else this.#finish({ code, details, metadata: new Metadata() });
  }

  getPeer(): string {
    return this.#child?.getPeer() ?? 'unknown';
  }

  getAuthContext(): AuthContext {
    return this.#child?.getAuthContext() ?? null;
  }

  /** Waits for a token without outliving the call's deadline: nothing below enforces it before `nextCall`. */
  #awaitHeader(header: Promise<AuthMetadata | undefined>): void {
    const remaining = msUntil(this.#options.deadline);
    if (remaining !== undefined) {
      this.#deadlineTimer = setTimeout(() => {
        this.#finish({
          code: status.DEADLINE_EXCEEDED,
          details: 'Deadline exceeded while obtaining access token',
          metadata: new Metadata(),
        });
      }, remaining);
    }
    header.then(
      (value) => {
        clearTimeout(this.#deadlineTimer);
        if (!this.#done) this.#openAttempt(value);
      },
      (error: unknown) => {
        clearTimeout(this.#deadlineTimer);
        this.#finish(statusForTokenFailure(error));
      },
    );
  }

  #openAttempt(header: AuthMetadata | undefined): void {
    this.#header = header;
    // A clone per attempt: the caller's Metadata is never touched, and `set` replaces any value already there.
    const metadata = this.#metadata ? this.#metadata.clone() : new Metadata();
    if (header) metadata.set(header[0], header[1]);
    const child = this.#nextCall(this.#options);
    this.#child = child;
    child.start(metadata, new AttemptListener(this, child));
    if (this.#readPending) child.startRead();
    this.#pump();
  }

  #pump(): void {
    const child = this.#child;
    if (!child) return;
    // grpc-js holds one message in flight per call layer: the next one goes out from the previous write callback.
    if (!this.#inflight) {
      const entry = this.#queue.shift();
      if (entry) {
        this.#inflight = true;
        const context: MessageContext = {
          callback: () => {
            entry.done();
            if (child !== this.#child) return;
            this.#inflight = false;
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

  get #canRetry(): boolean {
    return !this.#retried && !this.#cancelled && !this.#done && this.#log !== null;
  }

  /** @internal */
  onMetadata(child: DownstreamCall, metadata: Metadata): void {
    if (child !== this.#child) return;
    if (this.#canRetry) this.#heldMetadata = metadata;
    else this.#listener.onReceiveMetadata?.(metadata);
  }

  /** @internal */
  onMessage(child: DownstreamCall, message: unknown): void {
    if (child !== this.#child) return;
    // The unary layer below reports "no message" as null before the status: keep it until the attempt is final.
    if (message === null && !this.#options.method_definition.responseStream && this.#canRetry) {
      this.#heldNullMessage = true;
      return;
    }
    this.#stopReplaying();
    this.#readPending = false;
    this.#listener.onReceiveMessage?.(message);
  }

  /** @internal */
  onStatus(child: DownstreamCall, received: StatusObject): void {
    if (child !== this.#child) return;
    if (this.#canRetry && this.#isAuthRejection(received)) {
      publishRetry(this.#options.method_definition.path, received, this.#header?.[1]);
      this.#retried = true;
      this.#child = null;
      this.#heldMetadata = null;
      this.#heldNullMessage = false;
      this.#inflight = false;
      this.#halfCloseSent = false;
      this.#queue = [...(this.#log ?? [])];
      this.#log = null; // one retry only: nothing needs to be kept for another
      this.#awaitHeader(this.#auth.refreshAfterRejection(this.#header));
      return;
    }
    publishRejected(this.#options.method_definition.path, received, this.#header?.[1], this.#retried, this.#settings.isAuthRejection);
    this.#finish(received);
  }

  // A throwing predicate (the caller's code) must not crash the listener: the status then reaches the app as is.
  #isAuthRejection(received: StatusObject): boolean {
    try {
      return this.#settings.isAuthRejection(received);
    } catch {
      return false;
    }
  }

  /** The call can no longer be replayed: release what was held for a retry. */
  #stopReplaying(): void {
    if (this.#log === null) return;
    this.#log = null;
    this.#flushHeld();
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

  #finish(final: StatusObject): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#deadlineTimer);
    this.#flushHeld();
    this.#log = null;
    // Writes that never reached a server must not leave the app's stream waiting for their callbacks.
    for (const entry of this.#queue) entry.done();
    this.#queue = [];
    this.#listener.onReceiveStatus?.(final);
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

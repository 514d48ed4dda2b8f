/** The last message read from the application's stream, numbered: the one a new attempt may still need. */
interface Pulled<T> {
  seq: number;
  result: IteratorResult<T>;
}

/**
 * The application's request stream (an `AsyncIterable`, as Connect and nice-grpc take it), read once and shared by
 * the call's attempts. Each message is handed to `record`
 * (the replay buffer) as it is read; a retry replays what was recorded, then goes on reading. A read still in flight
 * when an attempt fails is not lost: its message goes to the next attempt, whether it arrives before the replay
 * snapshot is taken (it is in the snapshot) or after (it is delivered after the snapshot).
 */
export class RequestTee<T> {
  readonly #source: AsyncIterable<T>;
  readonly #record: (message: T) => void;
  #iterator: AsyncIterator<T> | undefined;
  #pending: Promise<void> | undefined;
  #last: Pulled<T> | undefined;
  #read = 0;
  #current: object | undefined;
  #supersede: (() => void) | undefined;
  #closed = false;

  constructor(source: AsyncIterable<T>, record: (message: T) => void) {
    this.#source = source;
    this.#record = record;
  }

  /**
   * The request stream of a new attempt: `replayed` (the messages recorded so far, in order), then the rest of the
   * application's stream. The previous attempt's stream ends as soon as it is asked for more.
   */
  attempt(replayed: readonly T[]): AsyncIterable<T> {
    const token = {};
    this.#supersede?.();
    this.#current = token;
    // Ends this attempt's wait for the application's next message, when a newer attempt takes over or it is closed.
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    this.#supersede = stop;
    let seq = 0;
    const DONE: IteratorResult<T> = { done: true, value: undefined };
    const next = async (): Promise<IteratorResult<T>> => {
      if (this.#current !== token) return DONE;
      if (seq < replayed.length) return { done: false, value: replayed[seq++] as T };
      for (;;) {
        const last = this.#last;
        if (last && last.seq === seq) {
          if (!last.result.done) seq += 1;
          return last.result;
        }
        // Never skip a message: an attempt behind the last read cannot be served (the replay was not complete).
        if (last && last.seq > seq) throw new Error('the request stream cannot be replayed: a message was not kept');
        await Promise.race([this.#pull(), stopped]);
        if (this.#current !== token) return DONE;
      }
    };
    // An attempt that ends (answered, failed, cancelled) only stops reading: the application's stream stays open for
    // the next attempt, and a read in flight goes to it. The transport closes the application's stream itself.
    const end = async (): Promise<IteratorResult<T>> => {
      if (this.#current === token) this.#current = undefined;
      stop();
      return DONE;
    };
    // Connect needs `throw` (it aborts request bodies through it); an attempt takes it as its end.
    return { [Symbol.asyncIterator]: () => ({ next, return: end, throw: end }) };
  }

  /**
   * The current attempt failed and a retry will follow: it stops reading now, so that the messages recorded so far
   * (the replay) and the one read still in flight are all the next attempt needs before it reads on.
   */
  pause(): void {
    this.#current = undefined;
    this.#supersede?.();
  }

  /**
   * The call is over: stops reading and closes the application's stream (runs its `finally` blocks), as a transport
   * does when a call ends early. For transports that read only the attempts' streams (nice-grpc).
   */
  close(): void {
    this.pause();
    if (this.#closed) return;
    this.#closed = true;
    const iterator = this.#iterator;
    if (!iterator || this.#last?.result.done) return;
    // A generator still running finishes its pending step first; its own error is not the call's.
    Promise.resolve()
      .then(() => iterator.return?.())
      .catch(() => undefined);
  }

  // One read at a time from the application's stream, shared by whoever waits for it.
  #pull(): Promise<void> {
    this.#pending ??= (async () => {
      try {
        this.#iterator ??= this.#source[Symbol.asyncIterator]();
        const result = await this.#iterator.next();
        if (!result.done) this.#record(result.value);
        this.#last = { seq: this.#read, result };
        if (!result.done) this.#read += 1;
      } finally {
        this.#pending = undefined;
      }
    })();
    return this.#pending;
  }
}

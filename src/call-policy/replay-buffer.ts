/** How much of a call's request stream is kept for a replay. */
export interface ReplayLimits {
  /** Messages kept at most. Default {@link DEFAULT_MAX_BUFFERED_MESSAGES}. */
  maxMessages: number;
  /** Bytes (serialized size) kept at most. Default {@link DEFAULT_MAX_BUFFERED_BYTES}, as grpc-js's own retry buffer. */
  maxBytes: number;
}

/** Default bound on replayed request messages. */
export const DEFAULT_MAX_BUFFERED_MESSAGES = 64;

/** Default bound on replayed request bytes: 1 MiB per call, grpc-js's `grpc.per_rpc_retry_buffer_size`. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20;

/**
 * The request messages of one call, kept until it commits so that one retry can replay them. Over either bound the
 * call is no longer replayable: the buffer empties and stays empty (the call goes on, it just cannot be retried).
 */
export class ReplayBuffer<T> {
  readonly #limits: ReplayLimits;
  #entries: T[] | null = [];
  #bytes = 0;

  constructor(limits: ReplayLimits) {
    this.#limits = limits;
  }

  /** Whether everything sent so far is still held, so the call can be replayed. */
  get replayable(): boolean {
    return this.#entries !== null;
  }

  /** Bytes held (messages of unknown size count 0). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keeps `entry` for a replay. `bytes` is its serialized size, or `undefined` when the transport cannot tell
   * without serializing it (then only the message bound applies). Returns whether the call is still replayable.
   */
  add(entry: T, bytes?: number): boolean {
    const entries = this.#entries;
    if (entries === null) return false;
    const total = this.#bytes + (bytes ?? 0);
    if (entries.length >= this.#limits.maxMessages || total > this.#limits.maxBytes) {
      this.release();
      return false;
    }
    entries.push(entry);
    this.#bytes = total;
    return true;
  }

  /** Hands the entries over for the (only) replay; the buffer is then released: no second replay. */
  take(): T[] {
    const entries = this.#entries ?? [];
    this.release();
    return entries;
  }

  /** Drops everything: the call committed, ended, or went over a bound. */
  release(): void {
    this.#entries = null;
    this.#bytes = 0;
  }
}

import { AuthenticationError } from '../errors.js';
import { raceWithSignal, setLongTimeout } from '../time/long-delay.js';

/** `150 ms`, `2 s`, `120 s`, `600 h`: for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  return ms < 3_600_000 * 10 ? `${Math.round(ms / 1_000)} s` : `${Math.round(ms / 3_600_000)} h`;
}

/** The error a login ends with when the caller's signal aborts it. */
export function loginAborted(signal: AbortSignal | undefined): AuthenticationError {
  return new AuthenticationError('the login was aborted', { code: 'ERR_LOGIN', cause: signal?.reason });
}

/** When a login ends: the caller's signal, a timeout, and the error the timeout ends it with. */
export interface LoginDeadlineOptions {
  /** Ends the login after this many ms (`undefined` or `Infinity`: no limit). */
  timeoutMs: number | undefined;
  /** The caller's cancellation. */
  signal: AbortSignal | undefined;
  /** The error a timeout ends the login with. */
  onTimeout: () => AuthenticationError;
}

/**
 * One signal for "the login is over": the caller aborted or the time ran out. Its `reason` is always an
 * {@link AuthenticationError} (`ERR_LOGIN`), so whoever waits can rethrow it as is. `dispose()` clears the timer, so
 * a finished login leaves no handle behind.
 */
export class LoginDeadline {
  readonly #controller = new AbortController();
  readonly #cancelTimer: () => void = () => undefined;
  readonly #parent: AbortSignal | undefined;
  readonly #onParentAbort = (): void => {
    this.#controller.abort(loginAborted(this.#parent));
  };

  constructor(options: LoginDeadlineOptions) {
    this.#parent = options.signal;
    if (options.signal?.aborted) {
      this.#onParentAbort();
    } else {
      options.signal?.addEventListener('abort', this.#onParentAbort, { once: true });
      if (options.timeoutMs !== undefined && Number.isFinite(options.timeoutMs)) {
        // Any length: a `600h` login timeout or a 30-day device code must not overflow a Node timer and end at once.
        this.#cancelTimer = setLongTimeout(() => this.#controller.abort(options.onTimeout()), options.timeoutMs);
      }
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Rejects with the signal's reason as soon as it aborts (the work itself may settle later; its result is dropped). */
  race<T>(work: Promise<T>): Promise<T> {
    return raceWithSignal(work, this.signal);
  }

  dispose(): void {
    this.#cancelTimer();
    this.#parent?.removeEventListener('abort', this.#onParentAbort);
  }
}

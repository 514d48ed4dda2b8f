import { AuthenticationError } from '../errors.js';

/** `150 ms`, `2 s`, `120 s`: for messages. */
export function formatDuration(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${Math.round(ms / 1_000)} s`;
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
  readonly #timer: NodeJS.Timeout | undefined;
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
        this.#timer = setTimeout(() => this.#controller.abort(options.onTimeout()), Math.max(0, options.timeoutMs));
      }
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Rejects with the signal's reason as soon as it aborts (the work itself may settle later; its result is dropped). */
  race<T>(work: Promise<T>): Promise<T> {
    const signal = this.signal;
    work.catch(() => undefined);
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the work's own rejection through unchanged
          reject(error);
        },
      );
    });
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#parent?.removeEventListener('abort', this.#onParentAbort);
  }
}

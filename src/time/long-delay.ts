/**
 * The longest delay one Node timer holds (≈24.8 days). Longer delays given to `setTimeout`, `AbortSignal.timeout` or
 * `timers/promises` fire after 1 ms (with a `TimeoutOverflowWarning`): a 30-day deadline would end at once.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** Options of {@link setLongTimeout}. */
export interface LongTimeoutOptions {
  /** Do not keep the process alive for this timer (as `AbortSignal.timeout` does). Default `false`. */
  unref?: boolean;
}

/**
 * `setTimeout` for any delay: a delay longer than one Node timer holds is waited for in steps of at most
 * {@link MAX_TIMER_DELAY_MS} (timers fire late, never early, so the whole wait is at least `delayMs`). `Infinity` and
 * `NaN` never fire; negative delays fire on the next turn. Returns a function that cancels the timer.
 */
export function setLongTimeout(callback: () => void, delayMs: number, options: LongTimeoutOptions = {}): () => void {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  if (Number.isNaN(delayMs) || delayMs === Number.POSITIVE_INFINITY) return () => undefined;
  let remaining = Math.max(0, delayMs);
  const arm = (): void => {
    const step = Math.min(remaining, MAX_TIMER_DELAY_MS);
    remaining -= step;
    timer = setTimeout(() => {
      if (cancelled) return;
      if (remaining > 0) arm();
      else callback();
    }, step);
    if (options.unref) timer.unref();
  };
  arm();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}

/**
 * `AbortSignal.timeout` for any delay: aborts with a `TimeoutError` `DOMException` after `delayMs` (`Infinity`:
 * never). Like `AbortSignal.timeout`, the timer does not keep the process alive.
 */
export function timeoutSignal(delayMs: number): AbortSignal {
  if (delayMs <= MAX_TIMER_DELAY_MS) return AbortSignal.timeout(Math.max(0, delayMs));
  const controller = new AbortController();
  setLongTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), delayMs, { unref: true });
  return controller.signal;
}

/** Resolves after `delayMs` (any length); rejects with the signal's reason as soon as `signal` aborts. */
export function sleep(delayMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(signal?.reason as Error);
    };
    const cancel = setLongTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles as `work` does, or rejects with the signal's reason as soon as `signal` aborts (work that cannot be
 * cancelled, such as a native keychain call, goes on; its result is dropped and its rejection never goes unhandled).
 */
export function raceWithSignal<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
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

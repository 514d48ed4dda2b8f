// Node fires a timer whose delay exceeds this after 1 ms (with a warning), so longer waits are chained.
const MAX_TIMER_DELAY_MS = 2_147_483_647;

/** A pending {@link setLongTimeout}; `clear()` cancels it and is safe to call more than once. */
export interface LongTimer {
  clear(): void;
}

const NEVER: LongTimer = { clear() {} };

/**
 * `setTimeout` for any duration: delays beyond 2³¹−1 ms (≈24.8 days) are chained, `Infinity` never fires,
 * `NaN` and negative delays fire as soon as possible. The callback runs at most once.
 */
export function setLongTimeout(callback: () => void, delayMs: number): LongTimer {
  if (delayMs === Number.POSITIVE_INFINITY) return NEVER;
  const dueAt = Date.now() + (Number.isNaN(delayMs) ? 0 : Math.max(0, delayMs));
  let timer: NodeJS.Timeout | undefined;
  const arm = (remaining: number): void => {
    timer = setTimeout(() => {
      const left = dueAt - Date.now();
      if (left > 0) arm(left);
      else callback();
    }, Math.min(remaining, MAX_TIMER_DELAY_MS));
  };
  arm(dueAt - Date.now());
  return { clear: () => clearTimeout(timer) };
}

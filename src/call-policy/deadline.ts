/**
 * A call's deadline as transports carry it: epoch milliseconds or a `Date` (grpc-js), `Infinity` for none.
 * Connect's relative `timeoutMs` becomes `Date.now() + timeoutMs`.
 */
export type CallDeadline = Date | number;

/**
 * Milliseconds until `deadline` (0 once passed), or `undefined` when the call has none (`undefined`, `Infinity`,
 * an invalid `Date` or `NaN`). May exceed 2³¹−1: pair it with {@link setLongTimeout}, never a bare `setTimeout`.
 */
export function msUntil(deadline: CallDeadline | undefined, now = Date.now()): number | undefined {
  if (deadline === undefined) return undefined;
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  if (Number.isNaN(at) || at === Number.POSITIVE_INFINITY) return undefined;
  return Math.max(0, at - now);
}

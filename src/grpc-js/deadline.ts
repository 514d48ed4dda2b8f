import type { Deadline } from '@grpc/grpc-js';

/** Milliseconds until `deadline`, or `undefined` when the call has none. */
export function msUntil(deadline: Deadline | undefined, now = Date.now()): number | undefined {
  if (deadline === undefined) return undefined;
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

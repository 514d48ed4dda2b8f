import { statusForTokenFailure, tokenCancelledStatus, tokenDeadlineStatus } from './call-statuses.js';
import { msUntil, type CallDeadline } from './deadline.js';
import { setLongTimeout } from './long-timer.js';
import type { CallStatus } from './status-codes.js';
import type { AuthMetadata } from './token-source.js';

/** What bounds a wait for a token: the call's own deadline and cancellation. */
export interface TokenWaitOptions {
  /** The call's absolute deadline (`Infinity` or `undefined`: none). Any distance works, 30 days included. */
  deadline?: CallDeadline | undefined;
  /** The call's cancellation. */
  signal?: AbortSignal | undefined;
}

/** How a wait for a token ended: a header to send (`undefined` for flows that log in lazily), or the call's status. */
export type TokenWaitResult = { ok: true; header: AuthMetadata | undefined } | { ok: false; status: CallStatus };

/**
 * Waits for `pending` (`fetchGrpcCallAuthMetadata()`, or `refreshAfterRejection(header)` before a retry) without
 * outliving the call: never rejects. A failure becomes {@link statusForTokenFailure}, the deadline
 * `DEADLINE_EXCEEDED`, the signal `CANCELLED`. Transports enforce neither before the call starts, hence the timer.
 *
 * Only the slow path: call `currentAuthMetadata()` first, synchronously, and wait only when it returns `undefined`.
 *
 * @example
 * const header = auth.currentAuthMetadata();
 * const result = header ? { ok: true, header } : await waitForToken(auth.fetchGrpcCallAuthMetadata(), { deadline, signal });
 * if (!result.ok) throw new ConnectError(result.status.details, result.status.code);
 */
export function waitForToken(pending: Promise<AuthMetadata | undefined>, options: TokenWaitOptions = {}): Promise<TokenWaitResult> {
  return new Promise<TokenWaitResult>((resolve) => {
    const { signal } = options;
    const remaining = msUntil(options.deadline);
    const timer = remaining === undefined ? undefined : setLongTimeout(() => settle({ ok: false, status: tokenDeadlineStatus() }), remaining);
    const onAbort = (): void => settle({ ok: false, status: tokenCancelledStatus() });
    function settle(result: TokenWaitResult): void {
      timer?.clear();
      signal?.removeEventListener('abort', onAbort);
      resolve(result);
    }
    if (signal?.aborted) {
      settle({ ok: false, status: tokenCancelledStatus() });
    } else {
      signal?.addEventListener('abort', onAbort, { once: true });
    }
    pending.then(
      (header) => settle({ ok: true, header }),
      (error: unknown) => settle({ ok: false, status: statusForTokenFailure(error) }),
    );
  });
}

import { StatusCode, type CallStatus } from './status-codes.js';

/** Decides whether a status means "these credentials were rejected" (refresh, and retry when the call still can). */
export type AuthRejectionPredicate<S extends CallStatus = CallStatus> = (status: S) => boolean;

/** The default predicate: `UNAUTHENTICATED` only (`PERMISSION_DENIED` means forbidden, not "log in again"). */
export const isUnauthenticated: AuthRejectionPredicate = (status) => status.code === StatusCode.UNAUTHENTICATED;

/**
 * `predicate(status)`, where a throwing predicate (the caller's code) counts as "not a rejection": the status then
 * reaches the application unchanged instead of the exception escaping into the transport.
 */
export function isAuthRejection<S extends CallStatus>(predicate: AuthRejectionPredicate<S>, status: S): boolean {
  try {
    return Boolean(predicate(status));
  } catch {
    return false;
  }
}

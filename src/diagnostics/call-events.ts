import { rejectedChannel, retryChannel, type RejectedMessage, type RetryMessage } from './channels.js';
import { armDebugLog } from './debug-log.js';
import { headerFingerprint, redactText } from './redact.js';

/** The part of a call's final status the call events need (grpc-js `StatusObject`, Connect and nice-grpc errors). */
export interface CallStatus {
  code: number;
  details: string;
}

// The token of an auth header value, so that a server echoing it in its details does not get it published.
function tokenOf(headerValue: string | undefined): string | undefined {
  return headerValue?.replace(/^bearer\s+/i, '');
}

function callMessage(method: string, status: CallStatus, headerValue: string | undefined): RetryMessage {
  return {
    method: String(method),
    code: Number(status.code),
    details: redactText(String(status.details ?? ''), [tokenOf(headerValue), headerValue]),
    token: headerFingerprint(headerValue),
  };
}

/**
 * Publishes on `flyte-grpc-auth:retry`: the server rejected the credentials of a call to `method` and the call is
 * being retried with new ones. `headerValue` is the rejected attempt's auth header value (`Bearer <token>`), of which
 * only a fingerprint is published. Never throws.
 */
export function publishRetry(method: string, status: CallStatus, headerValue: string | undefined): void {
  armDebugLog();
  if (!retryChannel.hasSubscribers) return;
  try {
    retryChannel.publish(callMessage(method, status, headerValue));
  } catch {
    // Building the message failed (a status of the wrong shape): the call matters more than its diagnostics.
  }
}

/**
 * Publishes on `flyte-grpc-auth:rejected` when the final status of a call is an auth rejection (as
 * `isAuthRejection` judges it, asked only when someone listens; a throwing predicate counts as "no") that reaches
 * the caller: `retried` says whether this was the rejection of the retry. Never throws.
 */
export function publishRejected<Status extends CallStatus>(
  method: string,
  status: Status,
  headerValue: string | undefined,
  retried: boolean,
  isAuthRejection: (status: Status) => boolean,
): void {
  armDebugLog();
  if (!rejectedChannel.hasSubscribers) return;
  try {
    if (!isAuthRejection(status)) return;
    const message: RejectedMessage = { ...callMessage(method, status, headerValue), retried };
    rejectedChannel.publish(message);
  } catch {
    // A throwing predicate or a status of the wrong shape: no event, and the call goes on.
  }
}

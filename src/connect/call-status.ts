import { Code, ConnectError } from '@connectrpc/connect';
import type { CallStatus } from '../call-policy/index.js';

/** A Connect error as the call policy sees it: gRPC code and details, with the error itself for the app's predicate. */
export interface ConnectCallStatus extends CallStatus {
  readonly error: ConnectError;
}

/** The policy's view of whatever an attempt failed with (Connect's numbers are gRPC's). */
export function callStatusOf(reason: unknown): ConnectCallStatus {
  const error = ConnectError.from(reason);
  return { code: error.code, details: error.rawMessage, error };
}

/** A policy status (token failure, bad header) as the `ConnectError` the call ends with: same code, same details. */
export function toConnectError(status: CallStatus): ConnectError {
  return new ConnectError(status.details, status.code);
}

/**
 * Why a call whose signal fired ended, as Connect itself reports it: `deadline_exceeded` when its `timeoutMs`
 * passed, `canceled` when the application aborted it (the transport replaces any other error by this one anyway).
 */
export function abortedError(signal: AbortSignal): ConnectError {
  return ConnectError.from(signal.reason, Code.Canceled);
}

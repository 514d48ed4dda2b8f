import { Metadata, type StatusObject } from '@grpc/grpc-js';
import type { CallStatus } from '../call-policy/status-codes.js';
import { statusForTokenFailure as tokenFailure } from '../call-policy/call-statuses.js';

export { TOKEN_FAILURE_DETAILS_PREFIX } from '../call-policy/call-statuses.js';

/** A policy status as grpc-js delivers it: with (empty) trailing metadata. */
export function toStatusObject(status: CallStatus): StatusObject {
  return { code: status.code, details: status.details, metadata: new Metadata() };
}

/** The status a call ends with when no token could be obtained for it. */
export function statusForTokenFailure(error: unknown): StatusObject {
  return toStatusObject(tokenFailure(error));
}

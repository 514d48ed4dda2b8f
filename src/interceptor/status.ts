import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { AuthenticationError } from '../errors.js';

/** The status a call ends with when no token could be obtained for it. */
export function statusForTokenFailure(error: unknown): StatusObject {
  const unreachable = error instanceof AuthenticationError && error.code === 'ERR_IDP_UNREACHABLE';
  const reason = error instanceof Error ? error.message : String(error);
  return {
    code: unreachable ? status.UNAVAILABLE : status.UNAUTHENTICATED,
    details: `failed to obtain access token: ${reason}`,
    metadata: new Metadata(),
  };
}

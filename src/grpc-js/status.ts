import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { AuthenticationError } from '../errors.js';
import { errorMessage } from '../util/error-message.js';

/** How the details of a call that ended without a token begin (an outer interceptor tells it from a server rejection). */
export const TOKEN_FAILURE_DETAILS_PREFIX = 'failed to obtain access token: ';

/** The status a call ends with when no token could be obtained for it. */
export function statusForTokenFailure(error: unknown): StatusObject {
  const unreachable = error instanceof AuthenticationError && error.code === 'ERR_IDP_UNREACHABLE';
  const reason = errorMessage(error);
  return {
    code: unreachable ? status.UNAVAILABLE : status.UNAUTHENTICATED,
    details: `${TOKEN_FAILURE_DETAILS_PREFIX}${reason}`,
    metadata: new Metadata(),
  };
}

import { Code, ConnectError } from '@connectrpc/connect';
import { AuthenticationError } from '../../errors.js';

/** What a failed `AuthMetadataService` call concerned, for the error message. */
export interface AuthMetadataCallContext {
  endpoint: string;
  serviceName: string;
  /** The method name, e.g. `GetOAuth2Metadata`. */
  rpc: string;
  timeoutMs: number;
}

// gRPC's names for Connect's codes (the same numbers), so messages read alike whatever the transport.
const CODE_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
];

// How Connect reports an answer that is neither gRPC nor Connect (an ingress error page, a web UI): an HTTP status
// without a protocol error, a foreign content type, a body that is no envelope.
const NOT_AN_API = /^HTTP \d{3}$|unsupported content type|protocol error|invalid envelope|premature (eof|end)/i;
const TLS_PROBLEM = /certificate|SSL|TLS|handshake|self[- ]signed|unable to verify|wrong version number/i;

/**
 * Whether a call failed because the server does not serve the method: `unimplemented`, which Connect also reports for
 * an HTTP 404 (how Connect servers answer an unknown procedure). The store then tries the other Flyte generation.
 * Also true for the sanitised copy an `AuthenticationError` keeps as its cause (see `safeCause`): a plain `Error`
 * named `ConnectError` with the numeric `code`, no longer an instance of `ConnectError`.
 */
export function isUnimplemented(error: unknown): boolean {
  if (error instanceof ConnectError) return error.code === Code.Unimplemented;
  return error instanceof Error && error.name === 'ConnectError' && (error as { code?: unknown }).code === Code.Unimplemented;
}

/**
 * An `AuthenticationError` for a failed `AuthMetadataService` call over Connect, worded as the grpc-js one: it names
 * the endpoint and the RPC and says what to do. `ERR_IDP_UNREACHABLE` when the server could not be reached or did not
 * answer in time, `ERR_CONFIG` when it answered but not as a Flyte `AuthMetadataService`.
 */
export function toAuthMetadataError(reason: unknown, context: AuthMetadataCallContext): AuthenticationError {
  const { endpoint, serviceName, rpc, timeoutMs } = context;
  const where = `/${serviceName}/${rpc} at ${endpoint}`;
  const error = ConnectError.from(reason);
  const codeName = CODE_NAMES[error.code] ?? String(error.code);
  const details = error.rawMessage.replace(/\s+/g, ' ').trim();
  const failed = `cannot fetch the client config: ${where} failed with ${codeName} (${details})`;
  if (error.code === Code.DeadlineExceeded) {
    return new AuthenticationError(`cannot fetch the client config: ${where} did not answer within ${timeoutMs} ms`, {
      code: 'ERR_IDP_UNREACHABLE',
      endpoint,
      cause: error,
    });
  }
  if (error.code === Code.Unimplemented) {
    // The store tries the other Flyte generation, and words the final message itself.
    return new AuthenticationError(`cannot fetch the client config: the server at ${endpoint} does not serve ${serviceName} (${rpc}: UNIMPLEMENTED)`, {
      code: 'ERR_CONFIG',
      endpoint,
      cause: error,
    });
  }
  if (NOT_AN_API.test(details)) {
    return new AuthenticationError(
      `${failed}; the endpoint did not answer as a Flyte API: is the base URL the Flyte API's (scheme, host, port), ` +
        'and is the transport (gRPC or Connect protocol, TLS or plaintext) the one the server speaks?',
      { code: error.code === Code.Unavailable ? 'ERR_IDP_UNREACHABLE' : 'ERR_CONFIG', endpoint, cause: error },
    );
  }
  if (error.code === Code.Unavailable || error.code === Code.Canceled) {
    const hint = TLS_PROBLEM.test(details)
      ? '; TLS failed: check the CA certificate (caCertFilePath), insecureSkipVerify, or an http:// base URL for a plaintext server'
      : '; is the server running, the base URL right, and its scheme (https or http) the one the server speaks?';
    return new AuthenticationError(`${failed}${hint}`, { code: 'ERR_IDP_UNREACHABLE', endpoint, cause: error });
  }
  return new AuthenticationError(failed, { code: 'ERR_CONFIG', endpoint, cause: error });
}

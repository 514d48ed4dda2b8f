import { status, type ServiceError } from '@grpc/grpc-js';
import { AuthenticationError } from '../../errors.js';

/** What a failed `AuthMetadataService` call concerned, for the error message. */
export interface AuthMetadataCallContext {
  endpoint: string;
  serviceName: string;
  /** The method name, e.g. `GetOAuth2Metadata`. */
  rpc: string;
  timeoutMs: number;
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as Partial<ServiceError>).code === 'number';
}

// How grpc-js reports an answer that is not gRPC (an ingress error page, a web UI, an HTTP/1.1 server): an HTTP
// status, an HTTP/2 protocol error, or an HTML body read as a gRPC frame ("<html" is a 1.7 GB length prefix).
const NOT_GRPC = /Received HTTP status code|content-type|Protocol error|No status information received|Received message larger than max|Failed to parse|parsing error/i;
const TLS_PROBLEM = /certificate|SSL|TLS|handshake|self[- ]signed|unable to verify|wrong version number/i;

/**
 * Whether `error` (or one of its causes) is a gRPC server's `UNIMPLEMENTED`: the server speaks gRPC but does not serve
 * the method. grpc-js also reports an HTTP 404 from a web server as `UNIMPLEMENTED`; that is no gRPC server at all.
 */
export function isUnimplementedByServer(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    if (isServiceError(cause) && cause.code === status.UNIMPLEMENTED) return !NOT_GRPC.test(cause.details || cause.message);
  }
  return false;
}

/**
 * An `AuthenticationError` for a failed `AuthMetadataService` call that names the endpoint and the RPC and says
 * what to do: `ERR_IDP_UNREACHABLE` when the server could not be reached or did not answer in time, `ERR_CONFIG`
 * when it answered but not as a Flyte `AuthMetadataService`.
 */
export function toAuthMetadataError(error: unknown, context: AuthMetadataCallContext): AuthenticationError {
  const { endpoint, serviceName, rpc, timeoutMs } = context;
  const where = `/${serviceName}/${rpc} at ${endpoint}`;
  if (!isServiceError(error)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new AuthenticationError(`cannot fetch the client config: ${where} failed: ${reason}`, { code: 'ERR_CONFIG', endpoint, cause: error });
  }
  const codeName = status[error.code] ?? String(error.code);
  // grpc-js appends an empty "Resolution note" and OpenSSL errors span lines: one line is enough.
  const details = (error.details || error.message).replace(/\s*Resolution note:\s*$/, '').replace(/\s+/g, ' ').trim();
  const failed = `cannot fetch the client config: ${where} failed with ${codeName} (${details})`;
  if (NOT_GRPC.test(details)) {
    return new AuthenticationError(
      `${failed}; the endpoint answered with plain HTTP, not gRPC: is this a Flyte gRPC endpoint? ` +
        'Use the host:port of the Flyte API (flyteadmin), not the console URL, and check `insecure` matches the server.',
      { code: error.code === status.UNAVAILABLE ? 'ERR_IDP_UNREACHABLE' : 'ERR_CONFIG', endpoint, cause: error },
    );
  }
  if (error.code === status.DEADLINE_EXCEEDED) {
    return new AuthenticationError(`cannot fetch the client config: ${where} did not answer within ${timeoutMs} ms`, {
      code: 'ERR_IDP_UNREACHABLE',
      endpoint,
      cause: error,
    });
  }
  if (error.code === status.UNAVAILABLE) {
    const hint = TLS_PROBLEM.test(details)
      ? '; TLS failed: check the CA certificate (caCertFilePath), insecureSkipVerify, or `insecure` for a plaintext server'
      : '; is the server running, the endpoint right, and `insecure` set to match the server (TLS or plaintext)?';
    return new AuthenticationError(`${failed}${hint}`, { code: 'ERR_IDP_UNREACHABLE', endpoint, cause: error });
  }
  if (error.code === status.UNIMPLEMENTED) {
    // The store tries the other Flyte generation, and words the final message itself.
    return new AuthenticationError(`cannot fetch the client config: the server at ${endpoint} does not serve ${serviceName} (${rpc}: UNIMPLEMENTED)`, {
      code: 'ERR_CONFIG',
      endpoint,
      cause: error,
    });
  }
  return new AuthenticationError(failed, { code: 'ERR_CONFIG', endpoint, cause: error });
}

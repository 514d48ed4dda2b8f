/**
 * Flyte's anonymous `AuthMetadataService` and `IdentityService`, independent of any RPC library: their names in
 * Flyte 1 and Flyte 2, their answers, and the {@link AuthMetadataTransport} seam a transport (grpc-js, Connect)
 * implements so that one `ClientConfig` logic serves all of them.
 */

/** The Flyte 1 name of the anonymous service that publishes the OAuth client configuration. */
export const AUTH_METADATA_SERVICE = 'flyteidl.service.AuthMetadataService';
/** The Flyte 2 name of the same service (same methods and field numbers, renamed messages). */
export const AUTH_METADATA_SERVICE_V2 = 'flyteidl2.auth.AuthMetadataService';
/** The Flyte 1 name of the service that tells who the caller is (`UserInfo`). */
export const IDENTITY_SERVICE = 'flyteidl.service.IdentityService';
/** The Flyte 2 name of the service that tells who the caller is (`UserInfo`). */
export const IDENTITY_SERVICE_V2 = 'flyteidl2.auth.IdentityService';

/** The `AuthMetadataService` methods. */
export type AuthMetadataRpc = 'GetOAuth2Metadata' | 'GetPublicClientConfig';

/**
 * The `IdentityService` of the same Flyte generation as an `AuthMetadataService` name: `…AuthMetadataService` becomes
 * `…IdentityService` in the same package (`flyteidl2.auth.AuthMetadataService` → `flyteidl2.auth.IdentityService`).
 */
export function identityServiceFor(authMetadataService: string): string {
  return authMetadataService.endsWith('AuthMetadataService')
    ? `${authMetadataService.slice(0, -'AuthMetadataService'.length)}IdentityService`
    : IDENTITY_SERVICE;
}

/**
 * `GetOAuth2Metadata`'s answer (RFC 8414 authorization server metadata), camelCased. proto3 cannot tell an unset
 * string from `''`: both mean absent.
 */
export interface OAuth2Metadata {
  issuer?: string | undefined;
  authorizationEndpoint?: string | undefined;
  tokenEndpoint?: string | undefined;
  deviceAuthorizationEndpoint?: string | undefined;
  jwksUri?: string | undefined;
  scopesSupported?: readonly string[] | undefined;
}

/** `GetPublicClientConfig`'s answer, camelCased; `''` and `[]` mean absent. */
export interface PublicClientConfig {
  clientId?: string | undefined;
  redirectUri?: string | undefined;
  scopes?: readonly string[] | undefined;
  /** The metadata key that carries the token; absent means `authorization`. */
  authorizationMetadataKey?: string | undefined;
  serviceHttpEndpoint?: string | undefined;
  audience?: string | undefined;
  /** Flyte 2 only (field 7): the domain of the data plane. */
  dataplaneDomain?: string | undefined;
}

/** How one `AuthMetadataService` call is bounded. */
export interface AuthMetadataCallOptions {
  /**
   * Aborted when the answer is no longer wanted (the deadline passed, or the other call failed): cancel the call.
   * A transport must settle (reject) soon after.
   */
  signal: AbortSignal;
  /** The call's deadline in ms from now; give it to the RPC library too, so the server learns it. */
  timeoutMs: number;
}

/**
 * What a transport provides so that `AuthMetadataClientConfigStore` can ask a Flyte server for its OAuth settings.
 * Both calls are anonymous (no admin token: that token needs this very config) and unary, with an empty request;
 * the path is `/<serviceName>/<method>`, and the messages are the same on the wire for both names.
 *
 * Implementations: `GrpcAuthMetadataTransport` (grpc-js). A Connect transport implements the same three members.
 *
 * @example
 * const store = new AuthMetadataClientConfigStore({ transport: myTransport, overrides: { clientId: 'cli' } });
 */
export interface AuthMetadataTransport {
  /** The server, as shown in messages (`host:port` or a URL). Never holds credentials. */
  readonly endpoint: string;
  /**
   * Calls `<serviceName>/GetOAuth2Metadata`. Rejects with an `AuthenticationError` that names the endpoint and the
   * RPC (`ERR_IDP_UNREACHABLE` for transport failures and deadlines, `ERR_CONFIG` for any other answer).
   */
  getOAuth2Metadata(serviceName: string, options: AuthMetadataCallOptions): Promise<OAuth2Metadata>;
  /** Calls `<serviceName>/GetPublicClientConfig`; rejects like {@link AuthMetadataTransport.getOAuth2Metadata}. */
  getPublicClientConfig(serviceName: string, options: AuthMetadataCallOptions): Promise<PublicClientConfig>;
  /**
   * Whether a rejection of either method means "the server does not serve this service" (gRPC `UNIMPLEMENTED`,
   * Connect `unimplemented`): the store then tries the other Flyte generation.
   */
  isUnimplemented(error: unknown): boolean;
}

import * as grpc from '@grpc/grpc-js';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import {
  AUTH_METADATA_SERVICE,
  authMetadataServiceDefinition,
  IDENTITY_SERVICE,
  identityServiceDefinition,
  type OAuth2MetadataResponse,
  type PublicClientAuthConfigResponse,
  type UserInfoResponse,
} from '../../src/grpc-js/flyte/flyte-protos.js';
import { toProtoStruct } from '../../src/grpc-js/flyte/protobuf-struct.js';
import type { TestPki } from './tls.js';

/** The identity provider endpoints the metadata answers are built from (a `TestIdentityProvider` fits). */
export interface IdentityProviderEndpoints {
  issuer: string;
  tokenEndpoint: string;
  authorizationEndpoint: string;
  deviceAuthorizationEndpoint: string;
  jwksUri: string;
}

export type MetadataRpc = 'GetOAuth2Metadata' | 'GetPublicClientConfig';
export type FlyteRpc = MetadataRpc | 'UserInfo';

export interface FlyteServicesOptions {
  idp: IdentityProviderEndpoints;
  /** What `GetPublicClientConfig` answers. Default: client id `flytectl`, scopes `['all']`, key `flyte-authorization`. */
  publicClientConfig?: Partial<PublicClientAuthConfigResponse>;
  /** Fields of `GetOAuth2Metadata` that replace the ones built from `idp` (`''` to leave one out). */
  metadata?: Partial<OAuth2MetadataResponse>;
  /** The `AuthMetadataService` name. Default `flyteidl.service.AuthMetadataService`. */
  serviceName?: string;
  /** The `IdentityService` name. Default `flyteidl.service.IdentityService`. */
  identityServiceName?: string;
  /** Metadata key carrying `Bearer <jwt>` for `UserInfo`. Default `flyte-authorization`. */
  headerKey?: string;
  /** The audience `UserInfo` tokens must have. */
  audience: string;
}

export interface FlyteServices {
  /** Adds both services to a server: pass as `startGrpcServer({ addServices })`. */
  register(server: grpc.Server): void;
  /** Calls received, per RPC (failed and hanging ones included). */
  readonly calls: Record<FlyteRpc, number>;
  /** Every call received, in order, with its request metadata. */
  readonly received: Array<{ rpc: FlyteRpc; metadata: grpc.Metadata }>;
  /** Answers the next `count` calls of each metadata RPC (or only of `rpc`) with `code`. */
  failNext(code: grpc.status, count?: number, rpc?: MetadataRpc): void;
  /** Leaves the next `count` calls of each metadata RPC (or only `rpc`) unanswered until `close()`. */
  hangNext(count?: number, rpc?: MetadataRpc): void;
  /** Changes what `GetPublicClientConfig` answers from now on. */
  setPublicClientConfig(config: Partial<PublicClientAuthConfigResponse>): void;
  /** Ends hanging calls (UNAVAILABLE) so the server can shut down. */
  releaseHanging(): void;
}

export interface StandaloneFlyteServices extends FlyteServices {
  address: string;
  server: grpc.Server;
  close(): Promise<void>;
}

/** The default `GetPublicClientConfig` answer, shaped like flyteadmin's. */
export const DEFAULT_PUBLIC_CLIENT_CONFIG: PublicClientAuthConfigResponse = {
  clientId: 'flytectl',
  redirectUri: 'http://localhost:53593/callback',
  scopes: ['all'],
  authorizationMetadataKey: 'flyte-authorization',
  serviceHttpEndpoint: '',
  audience: '',
  dataplaneDomain: '',
};

type Fault = { kind: 'fail'; code: grpc.status } | { kind: 'hang' };

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

const stringClaim = (payload: JWTPayload, name: string): string => {
  const value = payload[name];
  return typeof value === 'string' ? value : '';
};

/**
 * Flyte's anonymous `AuthMetadataService` (answers built from a test identity provider's endpoints and a configurable
 * public client config, with fault injection and call counts) and `IdentityService.UserInfo` (verifies the bearer JWT
 * against the identity provider's JWKS), for any grpc-js server.
 */
export function createFlyteServices(options: FlyteServicesOptions): FlyteServices {
  const calls: Record<FlyteRpc, number> = { GetOAuth2Metadata: 0, GetPublicClientConfig: 0, UserInfo: 0 };
  const received: FlyteServices['received'] = [];
  const faults: Record<MetadataRpc, Fault[]> = { GetOAuth2Metadata: [], GetPublicClientConfig: [] };
  const hanging: Array<() => void> = [];
  let publicClientConfig: PublicClientAuthConfigResponse = { ...DEFAULT_PUBLIC_CLIENT_CONFIG, ...options.publicClientConfig };
  const headerKey = options.headerKey ?? 'flyte-authorization';
  const jwks: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.idp.jwksUri));

  const metadata = (): OAuth2MetadataResponse => ({
    issuer: options.idp.issuer,
    authorizationEndpoint: options.idp.authorizationEndpoint,
    tokenEndpoint: options.idp.tokenEndpoint,
    responseTypesSupported: ['code'],
    scopesSupported: ['openid', 'offline_access', 'api:read', 'api:write'],
    tokenEndpointAuthMethodsSupported: ['client_secret_basic', 'client_secret_post', 'none'],
    jwksUri: options.idp.jwksUri,
    codeChallengeMethodsSupported: ['S256'],
    grantTypesSupported: ['authorization_code', 'client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    deviceAuthorizationEndpoint: options.idp.deviceAuthorizationEndpoint,
    ...options.metadata,
  });

  function answer<T>(rpc: MetadataRpc, call: grpc.ServerUnaryCall<unknown, T>, callback: grpc.sendUnaryData<T>, value: () => T): void {
    calls[rpc] += 1;
    received.push({ rpc, metadata: call.metadata });
    const fault = faults[rpc].shift();
    if (fault?.kind === 'hang') {
      hanging.push(() => callback(serviceError(grpc.status.UNAVAILABLE, 'server shutting down')));
      return;
    }
    if (fault?.kind === 'fail') {
      callback(serviceError(fault.code, `${rpc} failed by test`));
      return;
    }
    callback(null, value());
  }

  const pushFault = (fault: Fault, count: number, rpc?: MetadataRpc): void => {
    for (const name of rpc ? [rpc] : (['GetOAuth2Metadata', 'GetPublicClientConfig'] as const)) {
      for (let i = 0; i < count; i += 1) faults[name].push(fault);
    }
  };

  async function userInfo(call: grpc.ServerUnaryCall<unknown, UserInfoResponse>): Promise<UserInfoResponse> {
    const values = call.metadata.get(headerKey).map(String);
    if (values.length !== 1) throw serviceError(grpc.status.UNAUTHENTICATED, `expected one ${headerKey} value, got ${values.length}`);
    const match = /^Bearer (.+)$/.exec(values[0]!);
    if (!match) throw serviceError(grpc.status.UNAUTHENTICATED, 'no bearer token');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, jwks, { issuer: options.idp.issuer, audience: options.audience }));
    } catch (error) {
      throw serviceError(grpc.status.UNAUTHENTICATED, `invalid token: ${(error as { code?: string }).code ?? String(error)}`);
    }
    const subject = payload.sub ?? stringClaim(payload, 'client_id');
    return {
      subject,
      name: stringClaim(payload, 'name') || stringClaim(payload, 'client_id') || subject,
      preferredUsername: stringClaim(payload, 'preferred_username'),
      givenName: stringClaim(payload, 'given_name'),
      familyName: stringClaim(payload, 'family_name'),
      email: stringClaim(payload, 'email'),
      picture: stringClaim(payload, 'picture'),
      additionalClaims: toProtoStruct({ scope: payload.scope ?? null, client_id: payload.client_id ?? null, aud: payload.aud ?? null }),
    };
  }

  return {
    calls,
    received,
    register(server) {
      server.addService(authMetadataServiceDefinition(options.serviceName ?? AUTH_METADATA_SERVICE), {
        GetOAuth2Metadata: (call: grpc.ServerUnaryCall<unknown, OAuth2MetadataResponse>, callback: grpc.sendUnaryData<OAuth2MetadataResponse>) =>
          answer('GetOAuth2Metadata', call, callback, metadata),
        GetPublicClientConfig: (
          call: grpc.ServerUnaryCall<unknown, PublicClientAuthConfigResponse>,
          callback: grpc.sendUnaryData<PublicClientAuthConfigResponse>,
        ) => answer('GetPublicClientConfig', call, callback, () => ({ ...publicClientConfig })),
      });
      server.addService(identityServiceDefinition(options.identityServiceName ?? IDENTITY_SERVICE), {
        UserInfo: (call: grpc.ServerUnaryCall<unknown, UserInfoResponse>, callback: grpc.sendUnaryData<UserInfoResponse>) => {
          calls.UserInfo += 1;
          received.push({ rpc: 'UserInfo', metadata: call.metadata });
          userInfo(call).then(
            (response) => callback(null, response),
            (error: grpc.ServiceError) => callback(error),
          );
        },
      });
    },
    failNext(code, count = 1, rpc) {
      pushFault({ kind: 'fail', code }, count, rpc);
    },
    hangNext(count = 1, rpc) {
      pushFault({ kind: 'hang' }, count, rpc);
    },
    setPublicClientConfig(config) {
      publicClientConfig = { ...DEFAULT_PUBLIC_CLIENT_CONFIG, ...config };
    },
    releaseHanging() {
      for (const release of hanging.splice(0)) release();
    },
  };
}

/** Server credentials for 127.0.0.1 from a test PKI (`createTestPki()`). */
export function serverCredentials(pki: TestPki): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(null, [{ private_key: pki.serverKey, cert_chain: pki.serverCert }], false);
}

/** The two Flyte services alone on a real grpc-js server on 127.0.0.1 (plaintext, or TLS with `credentials`). */
export async function startFlyteServices(
  options: FlyteServicesOptions & { credentials?: grpc.ServerCredentials },
): Promise<StandaloneFlyteServices> {
  const services = createFlyteServices(options);
  const server = new grpc.Server();
  services.register(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', options.credentials ?? grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return Object.assign(services, {
    address: `127.0.0.1:${port}`,
    server,
    close: async () => {
      services.releaseHanging();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  });
}

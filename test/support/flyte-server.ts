import type * as grpc from '@grpc/grpc-js';
import { createFlyteServices, type FlyteServices, type FlyteServicesOptions } from './flyte-services.js';
import { startGrpcServer, type TestGrpcServer } from './grpc-server.js';
import { API_AUDIENCE, startIdentityProvider, type IdentityProviderOptions, type TestIdentityProvider } from './identity-provider.js';

/** A Flyte stand-in: the identity provider, and one gRPC server with Echo, AuthMetadataService and IdentityService. */
export interface TestFlyte {
  idp: TestIdentityProvider;
  services: FlyteServices;
  server: TestGrpcServer;
  address: string;
  close: () => Promise<void>;
}

export interface FlyteServerOptions {
  /** What `GetPublicClientConfig` answers. Default: scopes `api:read`, key `flyte-authorization`. */
  publicClientConfig?: FlyteServicesOptions['publicClientConfig'];
  /** How the identity provider is set up (token lifetimes, extra oidc-provider configuration). */
  idp?: IdentityProviderOptions;
  /** TLS for the gRPC server (`serverCredentials(pki)`); the identity provider stays plain HTTP. */
  credentials?: grpc.ServerCredentials;
}

/** Starts a Flyte stand-in on 127.0.0.1: tokens travel under `flyte-authorization`, as with flyteadmin. */
export async function startFlyteServer(options: FlyteServerOptions = {}): Promise<TestFlyte> {
  const idp = await startIdentityProvider(options.idp);
  const services = createFlyteServices({ idp, audience: API_AUDIENCE, publicClientConfig: { scopes: ['api:read'], ...options.publicClientConfig } });
  const server = await startGrpcServer({
    issuer: idp.issuer,
    jwksUri: idp.jwksUri,
    audience: API_AUDIENCE,
    headerKey: 'flyte-authorization',
    addServices: (grpcServer) => services.register(grpcServer),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  return {
    idp,
    services,
    server,
    address: server.address,
    close: async () => {
      await server.close();
      await idp.close();
    },
  };
}

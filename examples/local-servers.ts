// Stand-ins for your Flyte deployment so the examples run anywhere: an OAuth2 identity provider and a gRPC server
// that verifies its JWTs, both on 127.0.0.1. In real use you point the examples at your own endpoints instead.
import { startFlyteServer } from '../test/support/flyte-server.js';
import { startGrpcServer } from '../test/support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider } from '../test/support/identity-provider.js';

export { BASIC_CLIENT };

export async function startLocalServers(headerKey = 'authorization') {
  const idp = await startIdentityProvider();
  const server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE, headerKey });
  return {
    address: server.address,
    tokenEndpoint: idp.tokenEndpoint,
    async close() {
      await server.close();
      await idp.close();
    },
  };
}

/** A Flyte stand-in: the token under `flyte-authorization` and the anonymous `AuthMetadataService` that says so. */
export async function startLocalFlyte() {
  const flyte = await startFlyteServer();
  return { address: flyte.address, tokenRequestCount: () => flyte.idp.tokenRequestCount, close: flyte.close };
}

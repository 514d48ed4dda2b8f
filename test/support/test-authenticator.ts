import { ClientCredentialsAuthenticator, StaticClientConfigStore } from '../../src/index.js';
import { BASIC_CLIENT, type TestIdentityProvider } from './identity-provider.js';

/** A client-credentials authenticator for `svc-basic` with fast retries, as the grpc-js test environment has. */
export function testAuthenticator(idp: TestIdentityProvider, endpoint: string, headerKey = 'authorization'): ClientCredentialsAuthenticator {
  return new ClientCredentialsAuthenticator({
    endpoint,
    ...BASIC_CLIENT,
    cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'], headerKey }),
    retry: { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 20 },
  });
}

// A Flyte 2 stand-in so the Connect example runs anywhere: an OAuth2 identity provider and a Connect server (Flyte 2's
// AuthMetadataService and IdentityService), both on 127.0.0.1. In real use you point the example at your Flyte.
import { startConnectServer } from '../test/support/connect-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider } from '../test/support/identity-provider.js';

export { BASIC_CLIENT };

/** Tokens travel under `flyte-authorization`, which its `AuthMetadataService` publishes, as with a real Flyte. */
export async function startLocalFlyte2() {
  const idp = await startIdentityProvider();
  const server = await startConnectServer({ idp, audience: API_AUDIENCE, headerKey: 'flyte-authorization' });
  return {
    address: new URL(server.baseUrl).host,
    async close() {
      await server.close();
      await idp.close();
    },
  };
}

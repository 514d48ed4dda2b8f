// `npm run demo`: an identity provider and a JWT-verifying gRPC server on 127.0.0.1, and a client authenticated
// by flyte-grpc-auth. Shows the token fetch, single flight, a proactive refresh and a rejection answered by one
// refresh and one retry, with the counts.
import * as grpc from '@grpc/grpc-js';
import { ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore } from '../src/index.js';
import { EchoClient, unary } from '../test/support/echo-service.js';
import { startGrpcServer } from '../test/support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider } from '../test/support/identity-provider.js';

const idp = await startIdentityProvider({ accessTokenTtlSeconds: 3 });
const server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE, headerKey: 'flyte-authorization' });
console.log(`identity provider  ${idp.issuer} (access tokens live 3 s)`);
console.log(`gRPC server        ${server.address} (verifies the JWT in flyte-authorization)`);

const authenticator = new ClientCredentialsAuthenticator({
  endpoint: server.address,
  clientId: BASIC_CLIENT.clientId,
  clientSecret: BASIC_CLIENT.clientSecret,
  cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'], headerKey: 'flyte-authorization' }),
});
const client = new EchoClient(server.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(authenticator)] });
const counts = () => `token requests ${idp.tokenRequestCount}, calls seen by the server ${server.calls.length}`;

const first = await unary(client, { text: 'hello' });
console.log(`\n1. first call       -> ${first.text} as ${first.subject}; the token was fetched before the call (${counts()})`);

const replies = await Promise.all(Array.from({ length: 20 }, (_, index) => unary(client, { text: String(index) })));
console.log(`2. 20 parallel calls -> ${replies.length} replies; they shared the token (${counts()})`);

const expiresIn = authenticator.getCredentials()!.expiresAt! - Date.now();
await new Promise((resolve) => setTimeout(resolve, expiresIn - 150));
const before = authenticator.getCredentials()!.accessToken;
await unary(client, { text: 'in the refresh window' });
const refreshed = authenticator.getCredentials()!.accessToken !== before;
console.log(`3. near expiry      -> refreshed before use: ${refreshed}; rejected calls so far: ${server.calls.filter((c) => c.outcome !== 'ok').length} (${counts()})`);

server.rejectNext(1);
const retried = await unary(client, { text: 'after a revocation' });
const [rejected, accepted] = server.calls.slice(-2).map((call) => call.outcome);
console.log(`4. server rejects   -> attempt 1 UNAUTHENTICATED (${rejected}), one refresh, attempt 2 ${accepted}: ${retried.text} (${counts()})`);

client.close();
await server.close();
await idp.close();

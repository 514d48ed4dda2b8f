// A @grpc/proto-loader client authenticated with OAuth2 client credentials.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore } from '../src/index.js';
import { BASIC_CLIENT, startLocalServers } from './local-servers.js';

const local = await startLocalServers();

const definition = protoLoader.loadSync(fileURLToPath(new URL('../test/support/protos/echo.proto', import.meta.url)));
const { test } = grpc.loadPackageDefinition(definition) as unknown as { test: { echo: { Echo: grpc.ServiceClientConstructor } } };

const authenticator = new ClientCredentialsAuthenticator({
  endpoint: local.address,
  clientId: BASIC_CLIENT.clientId,
  clientSecret: BASIC_CLIENT.clientSecret,
  cfgStore: new StaticClientConfigStore({ tokenEndpoint: local.tokenEndpoint, scopes: ['api:read'] }),
});
const client = new test.echo.Echo(local.address, grpc.credentials.createInsecure(), {
  interceptors: [createAuthInterceptor(authenticator)],
});

client.Unary!({ text: 'hello' }, (error: grpc.ServiceError | null, reply: { text: string; subject: string }) => {
  if (error) console.error(`call failed: ${error.code} ${error.details}`);
  else console.log(`${reply.text} (authenticated as ${reply.subject})`);
  client.close();
  void local.close();
});

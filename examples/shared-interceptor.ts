// One interceptor (so one token cache) shared by two stubs, added to channel options the application already had.
import * as grpc from '@grpc/grpc-js';
import { ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore } from '../src/index.js';
import { EchoClient, unary } from '../test/support/echo-service.js';
import { BASIC_CLIENT, startLocalServers } from './local-servers.js';

const local = await startLocalServers();

const existingOptions: grpc.ClientOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.max_receive_message_length': 20 * 1024 * 1024,
};
const auth = createAuthInterceptor(
  new ClientCredentialsAuthenticator({
    endpoint: local.address,
    clientId: BASIC_CLIENT.clientId,
    clientSecret: BASIC_CLIENT.clientSecret,
    cfgStore: new StaticClientConfigStore({ tokenEndpoint: local.tokenEndpoint }),
  }),
);
const channelCredentials = grpc.credentials.createInsecure();
const admin = new EchoClient(local.address, channelCredentials, { ...existingOptions, interceptors: [auth] });
const data = new EchoClient(local.address, channelCredentials, { ...existingOptions, interceptors: [auth] });

const [a, b] = await Promise.all([unary(admin, { text: 'from stub 1' }), unary(data, { text: 'from stub 2' })]);
console.log(a.text, '|', b.text);
admin.close();
data.close();
await local.close();

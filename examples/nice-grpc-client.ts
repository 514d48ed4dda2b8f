// A nice-grpc client with the auth middleware: the token on every call type, refreshed and the call retried once
// when the server rejects it. nice-grpc composes middleware outside-in from the last `use`: the deadline middleware
// goes last, so a deadline also bounds the wait for a token.
import { createChannel, createClientFactory } from 'nice-grpc';
import { deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';
import { ClientCredentialsAuthenticator, createAuthMiddleware, StaticClientConfigStore } from '../src/nice-grpc.js';
import { niceEchoDefinition } from '../test/support/nice-echo.js';
import { BASIC_CLIENT, startLocalServers } from './local-servers.js';

const local = await startLocalServers();

const authenticator = new ClientCredentialsAuthenticator({
  endpoint: local.address,
  clientId: BASIC_CLIENT.clientId,
  clientSecret: BASIC_CLIENT.clientSecret,
  cfgStore: new StaticClientConfigStore({ tokenEndpoint: local.tokenEndpoint }),
});
const channel = createChannel(local.address);
const echo = createClientFactory().use(createAuthMiddleware(authenticator)).use(deadlineMiddleware).create(niceEchoDefinition, channel);

const reply = await echo.Unary({ text: 'hello' }, { deadline: 5_000 });
const ticks: string[] = [];
for await (const tick of echo.ServerStream({ text: 'tick', count: 2 }, { deadline: 5_000 })) ticks.push(tick.text);
console.log(`${reply.text} as ${reply.subject} | ${ticks.join(' ')}`);

channel.close();
await local.close();

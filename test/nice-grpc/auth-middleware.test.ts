import { createChannel, createClientFactory, Status, type Channel } from 'nice-grpc';
import { deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';
import { describe } from 'node:test';
import { createAuthMiddleware } from '../../src/nice-grpc.js';
import { authBehaviourTable } from '../support/auth-behaviour.js';
import { niceEchoDefinition } from '../support/nice-echo.js';
import { middlewareOptions, niceEchoCall } from '../support/nice-harness.js';
import { startGrpcJsServers } from '../support/grpc-js-harness.js';
import { testAuthenticator } from '../support/test-authenticator.js';

describe('nice-grpc middleware, against the grpc-js test server', () => {
  authBehaviourTable(async () => {
    const servers = await startGrpcJsServers();
    const authenticator = testAuthenticator(servers.idp, servers.server.address);
    const channels: Channel[] = [];
    return {
      idp: servers.idp,
      server: servers.server,
      authenticator,
      client(options = {}) {
        const auth = options.cold ? testAuthenticator(servers.idp, servers.server.address) : authenticator;
        const channel = createChannel(servers.server.address);
        channels.push(channel);
        // nice-grpc: the middleware added last is the outermost; the deadline must bound the wait for a token too.
        const client = createClientFactory()
          .use(createAuthMiddleware(auth, middlewareOptions(options)))
          .use(deadlineMiddleware)
          .create(niceEchoDefinition, channel);
        return { authenticator: auth, call: (kind, texts, callOptions) => niceEchoCall(client, kind, texts, callOptions) };
      },
      expected: {
        deadline: { code: Status.DEADLINE_EXCEEDED, message: 'Deadline exceeded' },
        cancelled: { code: Status.CANCELLED, message: 'AbortError' },
      },
      close: async () => {
        for (const channel of channels) channel.close();
        await servers.close();
      },
    };
  }, { byteBound: false });
});

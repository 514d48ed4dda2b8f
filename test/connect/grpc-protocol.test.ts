import { createGrpcTransport } from '@connectrpc/connect-node';
import { describe } from 'node:test';
import { authBehaviourTable } from '../support/auth-behaviour.js';
import { connectClients } from '../support/connect-harness.js';
import { startGrpcJsServers } from '../support/grpc-js-harness.js';
import { testAuthenticator } from '../support/test-authenticator.js';

describe('Connect interceptor, gRPC protocol (createGrpcTransport), against the grpc-js test server', () => {
  authBehaviourTable(async () => {
    const servers = await startGrpcJsServers();
    const baseUrl = `http://${servers.server.address}`;
    const authenticator = testAuthenticator(servers.idp, baseUrl);
    return {
      idp: servers.idp,
      server: servers.server,
      authenticator,
      client: connectClients(servers.idp, baseUrl, authenticator, (interceptors) => createGrpcTransport({ baseUrl, interceptors })),
      expected: {
        deadline: { code: 4, message: 'the operation timed out' },
        cancelled: { code: 1, message: 'This operation was aborted' },
      },
      close: () => servers.close(),
    };
  });
});

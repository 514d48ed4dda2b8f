import * as grpc from '@grpc/grpc-js';
import { describe } from 'node:test';
import { createAuthInterceptor, type AuthInterceptorOptions } from '../../src/index.js';
import { authBehaviourTable, type AdapterClientOptions } from '../support/auth-behaviour.js';
import { EchoClient } from '../support/echo-service.js';
import { grpcJsEchoCall, startGrpcJsServers } from '../support/grpc-js-harness.js';
import { testAuthenticator } from '../support/test-authenticator.js';

function interceptorOptions(options: AdapterClientOptions): AuthInterceptorOptions {
  const result: AuthInterceptorOptions = {};
  if (options.maxBufferedMessages !== undefined) result.maxBufferedMessages = options.maxBufferedMessages;
  if (options.maxBufferedBytes !== undefined) result.maxBufferedBytes = options.maxBufferedBytes;
  if (options.rejection === 'throws') {
    result.isAuthRejection = () => {
      throw new Error('bug in the predicate');
    };
  } else if (options.rejection === 'permission-denied-too') {
    result.isAuthRejection = (status) => status.code === grpc.status.UNAUTHENTICATED || status.code === grpc.status.PERMISSION_DENIED;
  }
  return result;
}

// The same table as the Connect interceptor and the nice-grpc middleware run (test/support/auth-behaviour.ts).
describe('grpc-js interceptor: the behaviour table shared by every adapter', () => {
  authBehaviourTable(async () => {
    const servers = await startGrpcJsServers();
    const authenticator = testAuthenticator(servers.idp, servers.server.address);
    const clients: grpc.Client[] = [];
    return {
      idp: servers.idp,
      server: servers.server,
      authenticator,
      client(options = {}) {
        const auth = options.cold ? testAuthenticator(servers.idp, servers.server.address) : authenticator;
        const client = new EchoClient(servers.server.address, grpc.credentials.createInsecure(), {
          interceptors: [createAuthInterceptor(auth, interceptorOptions(options))],
        });
        clients.push(client);
        return { authenticator: auth, call: (kind, texts, callOptions) => grpcJsEchoCall(client, kind, texts, callOptions) };
      },
      expected: {
        deadline: { code: grpc.status.DEADLINE_EXCEEDED, message: 'Deadline exceeded while obtaining access token' },
        cancelled: { code: grpc.status.CANCELLED, message: 'Cancelled on client' },
      },
      close: async () => {
        for (const client of clients) client.close();
        await servers.close();
      },
    };
  });
});

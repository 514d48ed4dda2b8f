import { createConnectTransport } from '@connectrpc/connect-node';
import { describe } from 'node:test';
import { authBehaviourTable } from '../support/auth-behaviour.js';
import { connectClients } from '../support/connect-harness.js';
import { testAuthenticator } from '../support/test-authenticator.js';
import { startConnectServer } from '../support/connect-server.js';
import { API_AUDIENCE, startIdentityProvider } from '../support/identity-provider.js';

const HTTP_STATUS: Record<number, number> = { 16: 401, 7: 403, 14: 503 };

describe('Connect interceptor, Connect protocol, against a @connectrpc/connect-node server', () => {
  authBehaviourTable(async () => {
    const idp = await startIdentityProvider();
    const server = await startConnectServer({ idp, audience: API_AUDIENCE });
    const authenticator = testAuthenticator(idp, server.baseUrl);
    return {
      idp,
      server,
      authenticator,
      client: connectClients(idp, server.baseUrl, authenticator, (interceptors) =>
        createConnectTransport({ baseUrl: server.baseUrl, httpVersion: '2', interceptors }),
      ),
      expected: {
        deadline: { code: 4, message: 'the operation timed out' },
        cancelled: { code: 1, message: 'This operation was aborted' },
      },
      // The test server rejects before the handler with an HTTP status, as auth middleware in front of it would;
      // Connect clients read the body of a unary error only.
      earlyError: (kind, code, message) => (kind === 'unary' ? { code, message } : { code, message: `HTTP ${HTTP_STATUS[code] ?? 500}` }),
      close: async () => {
        await server.close();
        await idp.close();
      },
    };
  });
});

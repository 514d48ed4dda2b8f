import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AuthenticationError, ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore, type ClientConfig } from '../../src/index.js';
import { observeUnary } from '../support/calls.js';
import { EchoClient, unary } from '../support/echo-service.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, POST_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';

const FAST_RETRY = { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 10 };

describe('ClientCredentialsAuthenticator', () => {
  let idp: TestIdentityProvider;
  let config: ClientConfig;
  before(async () => {
    idp = await startIdentityProvider();
    config = { tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] };
  });
  after(() => idp.close());
  beforeEach(() => {
    idp.tokenRequestLog.length = 0;
  });

  const create = (overrides: Partial<ConstructorParameters<typeof ClientCredentialsAuthenticator>[0]> = {}) =>
    new ClientCredentialsAuthenticator({
      endpoint: 'flyte.example.test:443',
      ...BASIC_CLIENT,
      cfgStore: new StaticClientConfigStore(config),
      retry: FAST_RETRY,
      ...overrides,
    });

  const assertNoSecret = (error: unknown, secret: string = BASIC_CLIENT.clientSecret) => {
    const text = `${String(error)} ${inspect(error, { depth: 8 })}`;
    assert.ok(!text.includes(secret), 'the secret leaked into the error');
    assert.ok(!text.includes(encodeURIComponent(secret)), 'the encoded secret leaked into the error');
  };

  test("client_secret_basic escapes id and secret as Go's url.QueryEscape and gets a JWT with its expiry", async () => {
    const before = Date.now();
    const credentials = await create().refreshCredentials();
    assert.equal(idp.tokenRequestCount, 1);
    const { body, headers } = idp.tokenRequestLog[0]!;
    const [id, secret] = Buffer.from(headers.authorization!.replace(/^Basic /, ''), 'base64').toString().split(':');
    assert.equal(secret, 'p%40ss%3Aw0rd%2F%2B', 'the secret is escaped, so its ":" cannot split it');
    assert.equal(id, 'svc-basic', 'unreserved characters (the hyphen) are left alone');
    assert.equal(body.get('grant_type'), 'client_credentials');
    assert.equal(body.get('scope'), 'api:read');
    assert.equal(body.has('client_secret'), false);
    assert.equal(credentials.forEndpoint, 'flyte.example.test:443');
    assert.equal(credentials.accessToken.split('.').length, 3);
    const lifetime = credentials.expiresAt! - before;
    assert.ok(lifetime > 290_000 && lifetime <= 301_000, `lifetime ${lifetime}`);
  });

  test('client_secret_post sends the secret in the form', async () => {
    await create({ ...POST_CLIENT, tokenEndpointAuthMethod: 'client_secret_post' }).refreshCredentials();
    const { body, headers } = idp.tokenRequestLog[0]!;
    assert.equal(headers.authorization, undefined);
    assert.equal(body.get('client_id'), POST_CLIENT.clientId);
    assert.equal(body.get('client_secret'), POST_CLIENT.clientSecret);
  });

  test('local scopes and audience win over the config store; empty scopes are never sent as scope=', async () => {
    const store = new StaticClientConfigStore({ ...config, scopes: ['all', 'offline'], audience: 'server-audience' });
    await create({ cfgStore: store, scopes: ['api:write'], audience: 'local-audience' }).refreshCredentials();
    await create({ cfgStore: store }).refreshCredentials();
    await create({ cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: [] }) }).refreshCredentials();
    const bodies = idp.tokenRequestLog.map(({ body }) => [body.get('scope'), body.get('audience')]);
    assert.deepEqual(bodies, [
      ['api:write', 'local-audience'],
      ['all offline', 'server-audience'],
      [null, null],
    ]);
  });

  test('the config store header key wins over the local one (as in flytekit)', async () => {
    const authenticator = create({ cfgStore: new StaticClientConfigStore({ ...config, headerKey: 'flyte-authorization' }), headerKey: 'x-local' });
    assert.equal(authenticator.headerKey, 'x-local');
    const header = await authenticator.fetchGrpcCallAuthMetadata();
    assert.equal(authenticator.headerKey, 'flyte-authorization');
    assert.deepEqual(header, ['flyte-authorization', `Bearer ${authenticator.getCredentials()!.accessToken}`]);
  });

  test('missing id or secret is a configuration error before any request', () => {
    assert.throws(() => create({ clientSecret: '' }), { name: 'AuthenticationError', code: 'ERR_CONFIG', message: 'Client ID and Client SECRET both are required.' });
    assert.throws(() => create({ clientId: '' }), { code: 'ERR_CONFIG' });
    assert.equal(idp.tokenRequestCount, 0);
  });

  test('invalid_client (Basic, WWW-Authenticate challenge) is not retried and names endpoint and OAuth error, never the secret', async () => {
    const secret = 'wr@ng:secret/+';
    const error = await create({ clientSecret: secret, tokenEndpointAuthMethod: 'client_secret_basic' }).refreshCredentials().then(
      () => assert.fail('expected a rejection'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'ERR_OAUTH_RESPONSE');
    assert.equal(error.oauthError, 'invalid_client');
    assert.equal(error.endpoint, idp.tokenEndpoint);
    assert.match(error.message, new RegExp(`^token endpoint ${idp.tokenEndpoint} answered HTTP 401 invalid_client`));
    assert.ok(error.cause, 'the cause is kept');
    assertNoSecret(error, secret);
    assert.equal(idp.tokenRequestCount, 1);
  });

  test('invalid_client with client_secret_post (JSON error body) maps the same way', async () => {
    const error = await create({ ...POST_CLIENT, clientSecret: 'nope-secret', tokenEndpointAuthMethod: 'client_secret_post' })
      .refreshCredentials()
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.oauthError, 'invalid_client');
    assertNoSecret(error, 'nope-secret');
    assert.equal(idp.tokenRequestCount, 1);
  });

  test('5xx and 429 are retried with backoff, then succeed', async () => {
    idp.failTokenRequests({ kind: 'status', status: 503 });
    idp.failTokenRequests({ kind: 'status', status: 429, body: '{"error":"slow down"}', contentType: 'application/json' });
    const credentials = await create().refreshCredentials();
    assert.ok(credentials.accessToken);
    assert.equal(idp.tokenRequestCount, 3);
  });

  test('a 400 OAuth error is not retried', async () => {
    idp.failTokenRequests({ kind: 'status', status: 400, body: '{"error":"invalid_scope","error_description":"nope"}', contentType: 'application/json' });
    await assert.rejects(create({ tokenEndpointAuthMethod: 'client_secret_basic' }).refreshCredentials(), {
      code: 'ERR_OAUTH_RESPONSE',
      oauthError: 'invalid_scope',
      message: /answered HTTP 400 invalid_scope: nope$/,
    });
    assert.equal(idp.tokenRequestCount, 1);
  });

  test('retries are bounded: persistent 502 fails after 1 + retries attempts as ERR_IDP_UNREACHABLE', async () => {
    idp.failTokenRequests({ kind: 'status', status: 502 }, 3);
    await assert.rejects(create().refreshCredentials(), { code: 'ERR_IDP_UNREACHABLE', message: /answered HTTP 502/ });
    assert.equal(idp.tokenRequestCount, 3);
  });

  test('dropped connections are retried as network errors', async () => {
    idp.failTokenRequests({ kind: 'reset' }, 2);
    await create().refreshCredentials();
    assert.equal(idp.tokenRequestCount, 3);
  });

  for (const [name, body, message] of [
    ['a 200 that is not JSON', '<html>login</html>', /token endpoint .* answered HTTP 200 without a valid OAuth response/],
    ['a response without access_token', '{"token_type":"bearer","expires_in":60}', /gave an unusable response|without a valid OAuth response/],
  ] as const) {
    test(`${name} is a clear ERR_BAD_TOKEN_RESPONSE, not a crash`, async () => {
      idp.failTokenRequests({ kind: 'status', status: 200, body, contentType: body.startsWith('{') ? 'application/json' : 'text/html' });
      await assert.rejects(create().refreshCredentials(), { code: 'ERR_BAD_TOKEN_RESPONSE', message });
      assert.equal(idp.tokenRequestCount, 1);
    });
  }

  test('an opaque token without expires_in never expires client-side (reactive refresh only)', async () => {
    idp.failTokenRequests({ kind: 'status', status: 200, body: '{"access_token":"opaque-token","token_type":"Bearer"}', contentType: 'application/json' });
    const authenticator = create();
    const credentials = await authenticator.refreshCredentials();
    assert.deepEqual(credentials, { accessToken: 'opaque-token', forEndpoint: 'flyte.example.test:443' });
    assert.deepEqual(authenticator.currentAuthMetadata(), ['authorization', 'Bearer opaque-token']);
  });

  describe('through the interceptor', () => {
    let server: TestGrpcServer;
    before(async () => {
      server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
    });
    after(() => server.close());

    const callWith = async (authenticator: ClientCredentialsAuthenticator) => {
      const client = new EchoClient(server.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(authenticator)] });
      try {
        return await observeUnary(client, { text: 'x' });
      } finally {
        client.close();
      }
    };

    test('a refused token request fails the call with UNAUTHENTICATED naming endpoint and OAuth error, never the secret', async () => {
      const secret = 'another-wr@ng-secret';
      const { error } = await callWith(create({ clientSecret: secret }));
      assert.equal(error?.code, grpc.status.UNAUTHENTICATED);
      assert.equal(
        error?.details,
        `failed to obtain access token: token endpoint ${idp.tokenEndpoint} answered HTTP 401 invalid_client: client authentication failed ` +
          '(client_secret_post was refused the same way)',
      );
      assert.equal(idp.tokenRequestCount, 2, 'Basic, then once client_secret_post (auto-detection)');
      assertNoSecret(error, secret);
      assert.equal(server.calls.length, 0);
    });

    test('an unreachable identity provider fails the call with UNAVAILABLE naming the endpoint', async () => {
      const down = await startIdentityProvider();
      const tokenEndpoint = down.tokenEndpoint;
      await down.close();
      const { error } = await callWith(create({ cfgStore: new StaticClientConfigStore({ tokenEndpoint }) }));
      assert.equal(error?.code, grpc.status.UNAVAILABLE);
      assert.match(error?.details ?? '', new RegExp(`^failed to obtain access token: token endpoint ${tokenEndpoint} is unreachable: ECONNREFUSED`));
      assert.equal(server.calls.length, 0);
    });

    test('after a failure the next call tries again (nothing failed is memoised)', async () => {
      idp.failTokenRequests({ kind: 'status', status: 400, body: '{"error":"invalid_request"}', contentType: 'application/json' });
      const authenticator = create({ tokenEndpointAuthMethod: 'client_secret_basic' });
      assert.equal((await callWith(authenticator)).error?.code, grpc.status.UNAUTHENTICATED);
      assert.equal((await callWith(authenticator)).error, null);
      assert.equal(idp.tokenRequestCount, 2);
    });

    test('unary call with `await unary()` works end to end', async () => {
      const client = new EchoClient(server.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(create())] });
      try {
        assert.deepEqual(await unary(client, { text: 'e2e' }), { text: 'ok:e2e', subject: 'svc-basic' });
      } finally {
        client.close();
      }
    });
  });
});

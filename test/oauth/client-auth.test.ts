import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, beforeEach, describe, test } from 'node:test';
import { AuthenticationError, ClientCredentialsAuthenticator, StaticClientConfigStore } from '../../src/index.js';
import { basicAuthorization, goQueryEscape } from '../../src/oauth/client-auth.js';
import { BASIC_CLIENT, POST_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { startRawTokenEndpoint, type RawTokenEndpoint } from '../support/raw-token-endpoint.js';

const FAST_RETRY = { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 };

// Escaped by hand with Go's `url.QueryEscape` rule (A-Z a-z 0-9 - _ . ~ kept, space → +, any other UTF-8 byte → %XX),
// then Base64.
const TABLE: Array<{ id: string; secret: string; escaped: string; header: string }> = [
  { id: 'svc-plain', secret: 's3cr3t', escaped: 'svc-plain:s3cr3t', header: 'Basic c3ZjLXBsYWluOnMzY3IzdA==' },
  { id: 'a-b_c.d~e', secret: 'x y', escaped: 'a-b_c.d~e:x+y', header: 'Basic YS1iX2MuZH5lOngreQ==' },
  {
    id: 'user@example.com',
    secret: 'p@ss:w0rd/+',
    escaped: 'user%40example.com:p%40ss%3Aw0rd%2F%2B',
    header: 'Basic dXNlciU0MGV4YW1wbGUuY29tOnAlNDBzcyUzQXcwcmQlMkYlMkI=',
  },
  {
    id: 'id:with:colons',
    secret: '100%&=?#',
    escaped: 'id%3Awith%3Acolons:100%25%26%3D%3F%23',
    header: 'Basic aWQlM0F3aXRoJTNBY29sb25zOjEwMCUyNSUyNiUzRCUzRiUyMw==',
  },
  { id: 'my app', secret: 'sp ace+plus', escaped: 'my+app:sp+ace%2Bplus', header: 'Basic bXkrYXBwOnNwK2FjZSUyQnBsdXM=' },
  {
    id: 'ünï-cødé',
    secret: '€/~',
    escaped: '%C3%BCn%C3%AF-c%C3%B8d%C3%A9:%E2%82%AC%2F~',
    header: 'Basic JUMzJUJDbiVDMyVBRi1jJUMzJUI4ZCVDMyVBOTolRTIlODIlQUMlMkZ+',
  },
  { id: 'A~z.0_9-', secret: '-_.~', escaped: 'A~z.0_9-:-_.~', header: 'Basic QX56LjBfOS06LV8ufg==' },
];

test("client_secret_basic: the exact Authorization header of Go's url.QueryEscape + Base64, for every table row", () => {
  for (const row of TABLE) {
    assert.equal(`${goQueryEscape(row.id)}:${goQueryEscape(row.secret)}`, row.escaped, row.id);
    assert.equal(basicAuthorization(row.id, row.secret), row.header, row.id);
  }
});

test('the same header reaches a real token endpoint, for every table row', async () => {
  for (const row of TABLE) {
    const endpoint = await startRawTokenEndpoint({ clientId: row.escaped.split(':')[0]!, clientSecret: row.escaped.split(':')[1]! });
    try {
      const auth = new ClientCredentialsAuthenticator({
        endpoint: 'flyte.example.test:443',
        clientId: row.id,
        clientSecret: row.secret,
        cfgStore: new StaticClientConfigStore({ tokenEndpoint: endpoint.tokenEndpoint }),
        tokenEndpointAuthMethod: 'client_secret_basic',
        retry: FAST_RETRY,
      });
      await auth.refreshCredentials();
      assert.deepEqual(
        endpoint.requests.map((request) => request.authorization),
        [row.header],
        row.id,
      );
    } finally {
      await endpoint.close();
    }
  }
});

describe('a token endpoint that does not percent-decode Basic credentials (glewlwyd)', () => {
  let raw: RawTokenEndpoint;
  before(async () => {
    raw = await startRawTokenEndpoint({ clientId: 'svc-plain', clientSecret: 'plain-secret', accepts: ['client_secret_basic'] });
  });
  after(() => raw.close());
  beforeEach(() => {
    raw.requests.length = 0;
  });

  const create = (options: Partial<ConstructorParameters<typeof ClientCredentialsAuthenticator>[0]> = {}) =>
    new ClientCredentialsAuthenticator({
      endpoint: 'flyte.example.test:443',
      clientId: 'svc-plain',
      clientSecret: 'plain-secret',
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: raw.tokenEndpoint }),
      retry: FAST_RETRY,
      ...options,
    });

  test('accepts a hyphenated client id with the default (auto) method: one token request', async () => {
    const credentials = await create().refreshCredentials();
    assert.equal(credentials.accessToken, 'raw-token-1');
    assert.deepEqual(
      raw.requests.map((request) => request.authorization),
      [`Basic ${Buffer.from('svc-plain:plain-secret').toString('base64')}`],
    );
  });

  test('a wrong secret: Basic, then once client_secret_post, both refused (403, empty body): two requests, the secret nowhere', async () => {
    const error = await create({ clientSecret: 'wrong-secret' })
      .refreshCredentials()
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof AuthenticationError);
    assert.equal(raw.requests.length, 2);
    assert.match(raw.requests[0]!.authorization ?? '', /^Basic /);
    assert.equal(raw.requests[1]!.authorization, undefined);
    assert.equal(raw.requests[1]!.body.get('client_id'), 'svc-plain');
    assert.equal(
      error.message,
      `token endpoint ${raw.tokenEndpoint} answered HTTP 403 without a valid OAuth response (client_secret_post was refused the same way)`,
    );
    assert.ok(!inspect(error, { depth: Infinity }).includes('wrong-secret'), 'no secret in the error');
  });

  test('a post-only endpoint: Basic refused (401), post works and is kept: 2 requests, then 1 per token', async () => {
    const postOnly = await startRawTokenEndpoint({ clientId: 'svc-plain', clientSecret: 'plain-secret', accepts: ['client_secret_post'], refusalStatus: 401 });
    try {
      const auth = create({ cfgStore: new StaticClientConfigStore({ tokenEndpoint: postOnly.tokenEndpoint }) });
      await auth.refreshCredentials();
      await auth.refreshCredentials();
      await auth.refreshCredentials();
      assert.deepEqual(
        postOnly.requests.map((request) => (request.authorization ? 'basic' : request.body.has('client_secret') ? 'post' : 'none')),
        ['basic', 'post', 'post', 'post'],
      );
      assert.equal(auth.getCredentials()?.accessToken, 'raw-token-3');
    } finally {
      await postOnly.close();
    }
  });

  test('an explicit client_secret_basic is used alone: one request on refusal', async () => {
    await assert.rejects(create({ clientSecret: 'wrong-secret', tokenEndpointAuthMethod: 'client_secret_basic' }).refreshCredentials(), {
      code: 'ERR_BAD_TOKEN_RESPONSE',
    });
    assert.equal(raw.requests.length, 1);
  });
});

describe('auto-detection against oidc-provider', () => {
  let idp: TestIdentityProvider;
  before(async () => {
    idp = await startIdentityProvider();
  });
  after(() => idp.close());
  beforeEach(() => {
    idp.tokenRequestLog.length = 0;
  });

  const create = (client: { clientId: string; clientSecret: string }, options: Partial<ConstructorParameters<typeof ClientCredentialsAuthenticator>[0]> = {}) =>
    new ClientCredentialsAuthenticator({
      endpoint: 'flyte.example.test:443',
      ...client,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
      retry: FAST_RETRY,
      ...options,
    });
  const methods = (): string[] => idp.tokenRequestLog.map(({ headers, body }) => (headers.authorization ? 'basic' : body.has('client_secret') ? 'post' : 'none'));

  test('a Basic client: Basic works and is kept (secret with @:/+ accepted by a decoding server): 1 request per token', async () => {
    const auth = create(BASIC_CLIENT);
    await auth.refreshCredentials();
    await auth.refreshCredentials();
    assert.deepEqual(methods(), ['basic', 'basic']);
  });

  test('an explicit client_secret_post is used alone', async () => {
    await create(POST_CLIENT, { tokenEndpointAuthMethod: 'client_secret_post' }).refreshCredentials();
    await assert.rejects(create({ ...POST_CLIENT, clientSecret: 'wrong' }, { tokenEndpointAuthMethod: 'client_secret_post' }).refreshCredentials(), {
      oauthError: 'invalid_client',
    });
    assert.deepEqual(methods(), ['post', 'post']);
  });

  test('no second method for what is not a refusal: 5xx and 429 are retried as before, never with post', async () => {
    for (const [status, code] of [
      [503, 'ERR_IDP_UNREACHABLE'],
      [429, 'ERR_OAUTH_RESPONSE'],
    ] as const) {
      idp.tokenRequestLog.length = 0;
      idp.failTokenRequests({ kind: 'status', status, body: '{"error":"busy"}', contentType: 'application/json' }, 2);
      await assert.rejects(create(BASIC_CLIENT).refreshCredentials(), { code });
      assert.deepEqual(methods(), ['basic', 'basic'], `${status}: one retry of the same Basic request, no post`);
    }
  });

  test('a refused Basic whose post attempt gets past authentication: the Basic error leads, the second answer is named', async () => {
    idp.failTokenRequests({ kind: 'status', status: 400, body: '{"error":"invalid_scope","error_description":"no"}', contentType: 'application/json' });
    idp.failTokenRequests({ kind: 'status', status: 400, body: '{"error":"invalid_request","error_description":"other"}', contentType: 'application/json' });
    const error = await create(BASIC_CLIENT)
      .refreshCredentials()
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.oauthError, 'invalid_scope');
    assert.equal(
      error.message,
      `token endpoint ${idp.tokenEndpoint} answered HTTP 400 invalid_scope: no (tried again with client_secret_post: answered HTTP 400 invalid_request: other)`,
    );
    assert.deepEqual(methods(), ['basic', 'post']);
  });
});

import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { AuthenticationError, ClientCredentialsAuthenticator, StaticClientConfigStore, type ClientCredentialsAuthenticatorOptions } from '../../src/index.js';
import { startForwardProxy, type ForwardProxyOptions, type TestForwardProxy } from '../support/forward-proxy.js';
import { BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { createTestPki, type TestPki } from '../support/tls.js';

// Retries allowed, so that a test shows a refusal is not asked again.
const RETRY = { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 10 };
const CREDENTIALS = { user: 'proxy-user', password: 'proxy-pa55word' };

function authenticator(idp: TestIdentityProvider, options: Partial<ClientCredentialsAuthenticatorOptions>): ClientCredentialsAuthenticator {
  return new ClientCredentialsAuthenticator({
    endpoint: 'flyte.example.test:443',
    ...BASIC_CLIENT,
    tokenEndpointAuthMethod: 'client_secret_basic',
    cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
    retry: RETRY,
    ...options,
  });
}

async function withProxy(options: ForwardProxyOptions, body: (proxy: TestForwardProxy) => Promise<void>): Promise<void> {
  const proxy = await startForwardProxy(options);
  try {
    await body(proxy);
  } finally {
    await proxy.close();
  }
}

function withCredentials(proxyUrl: string, user: string, password: string): string {
  const url = new URL(proxyUrl);
  url.username = user;
  url.password = password;
  return url.href;
}

async function failure(promise: Promise<unknown>): Promise<AuthenticationError> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AuthenticationError, String(error));
  return error;
}

describe('a plain-http identity provider behind a forward proxy that refuses CONNECT to non-TLS ports (squid)', () => {
  let idp: TestIdentityProvider;
  before(async () => {
    idp = await startIdentityProvider();
  });
  after(() => idp.close());

  test('token requests go in absolute form, no CONNECT', async () => {
    await withProxy({}, async (proxy) => {
      const auth = authenticator(idp, { httpProxyUrl: proxy.url });
      await auth.refreshCredentials();
      await auth.refreshCredentials();
      assert.deepEqual(proxy.log, [
        { request: `POST ${idp.tokenEndpoint}`, status: 200 },
        { request: `POST ${idp.tokenEndpoint}`, status: 200 },
      ]);
    });
  });

  test('with the proxy credentials in the URL: accepted; without or wrong: 407 naming the proxy, never its credentials, not retried', async () => {
    await withProxy({ credentials: CREDENTIALS }, async (proxy) => {
      await authenticator(idp, { httpProxyUrl: withCredentials(proxy.url, CREDENTIALS.user, CREDENTIALS.password) }).refreshCredentials();
      assert.deepEqual(proxy.log, [{ request: `POST ${idp.tokenEndpoint}`, status: 200 }]);

      proxy.log.length = 0;
      const error = await failure(authenticator(idp, { httpProxyUrl: withCredentials(proxy.url, 'someone', 'wr0ng-pa55') }).refreshCredentials());
      assert.equal(error.code, 'ERR_IDP_UNREACHABLE');
      assert.equal(
        error.message,
        `token endpoint ${idp.tokenEndpoint} is unreachable: ERR_PROXY_REFUSED: the proxy ${proxy.url} answered HTTP 407 ` +
          '(Proxy Authentication Required: check the credentials in the proxy URL)',
      );
      const everything = inspect(error, { depth: Infinity });
      assert.ok(!everything.includes('wr0ng-pa55') && !everything.includes('someone'), 'no proxy credentials anywhere in the error');
      assert.deepEqual(proxy.log, [{ request: `POST ${idp.tokenEndpoint}`, status: 407 }], 'a refusal is not retried');
    });
  });

  test('HTTP_PROXY from the environment: absolute form as well, and a refusal names that proxy', async () => {
    await withProxy({ credentials: CREDENTIALS }, async (proxy) => {
      const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
      Object.assign(process.env, { HTTP_PROXY: proxy.url, http_proxy: proxy.url, NO_PROXY: '', no_proxy: '' });
      let auth: ClientCredentialsAuthenticator;
      try {
        auth = authenticator(idp, {});
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
      const error = await failure(auth.refreshCredentials());
      assert.match(error.message, new RegExp(`the proxy ${proxy.url} answered HTTP 407`));
      assert.deepEqual(proxy.log, [{ request: `POST ${idp.tokenEndpoint}`, status: 407 }]);
    });
  });
});

describe('an https identity provider behind a forward proxy', () => {
  let pki: TestPki;
  let idp: TestIdentityProvider;
  let port: number;
  before(async () => {
    pki = createTestPki();
    idp = await startIdentityProvider({ tls: { key: pki.serverKey, cert: pki.serverCert } });
    port = Number(new URL(idp.issuer).port);
  });
  after(async () => {
    await idp.close();
    pki.cleanup();
  });

  test('is reached through CONNECT to its TLS port', async () => {
    await withProxy({ tlsPorts: [port] }, async (proxy) => {
      await authenticator(idp, { httpProxyUrl: proxy.url, verify: pki.caCertPath }).refreshCredentials();
      assert.deepEqual(proxy.log, [{ request: `CONNECT 127.0.0.1:${port}`, status: 200 }]);
    });
  });

  test('a refused CONNECT (403) names the proxy and the status, once, not retried', async () => {
    await withProxy({ tlsPorts: [] }, async (proxy) => {
      const error = await failure(authenticator(idp, { httpProxyUrl: proxy.url, verify: pki.caCertPath }).refreshCredentials());
      assert.equal(error.code, 'ERR_IDP_UNREACHABLE');
      assert.equal(error.message, `token endpoint ${idp.tokenEndpoint} is unreachable: ERR_PROXY_REFUSED: the proxy ${proxy.url} answered HTTP 403 (Forbidden)`);
      assert.deepEqual(proxy.log, [{ request: `CONNECT 127.0.0.1:${port}`, status: 403 }]);
    });
  });

  test('a 407 to CONNECT names the proxy without its credentials', async () => {
    await withProxy({ tlsPorts: [port], credentials: CREDENTIALS }, async (proxy) => {
      const error = await failure(
        authenticator(idp, { httpProxyUrl: withCredentials(proxy.url, CREDENTIALS.user, 'not-the-pa55word'), verify: pki.caCertPath }).refreshCredentials(),
      );
      assert.match(error.message, new RegExp(`: the proxy ${proxy.url} answered HTTP 407 \\(Proxy Authentication Required`));
      assert.ok(!inspect(error, { depth: Infinity }).includes('not-the-pa55word'));
      assert.deepEqual(proxy.log, [{ request: `CONNECT 127.0.0.1:${port}`, status: 407 }]);

      proxy.log.length = 0;
      await authenticator(idp, { httpProxyUrl: withCredentials(proxy.url, CREDENTIALS.user, CREDENTIALS.password), verify: pki.caCertPath }).refreshCredentials();
      assert.deepEqual(proxy.log, [{ request: `CONNECT 127.0.0.1:${port}`, status: 200 }]);
    });
  });
});

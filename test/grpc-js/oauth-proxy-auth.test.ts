import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import {
  AuthenticationError,
  ClientCredentialsAuthenticator,
  StaticClientConfigStore,
  createProxyAuthenticator,
  oauthHttpOptions,
  type CommandAuthenticator,
  type OAuthHttpOptions,
} from '../../src/index.js';
import { createOAuthConfiguration } from '../../src/oauth/configuration.js';
import { createOAuthFetch } from '../../src/oauth/http.js';
import { startHttpAuthProxy, type TestAuthProxy } from '../support/auth-proxy.js';
import { countingTokenScript, createScriptDir, type ScriptDir } from '../support/commands.js';
import { startConnectProxy } from '../support/connect-proxy.js';
import { BASIC_CLIENT, PUBLIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';

const FAST_RETRY = { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 20 };

describe('OAuth HTTP requests behind an authenticating proxy', () => {
  let scripts: ScriptDir;
  let idp: TestIdentityProvider;
  const proxies: TestAuthProxy[] = [];
  let run = 0;

  before(async () => {
    scripts = createScriptDir();
    idp = await startIdentityProvider();
  });
  after(async () => {
    for (const proxy of proxies) await proxy.close();
    await idp.close();
    scripts.cleanup();
  });

  async function setup(options: { rejectStatus?: 401 | 407; http?: OAuthHttpOptions; clientSecret?: string } = {}) {
    run += 1;
    const proxy = await startHttpAuthProxy(idp.issuer, options.rejectStatus ? { rejectStatus: options.rejectStatus } : {});
    proxies.push(proxy);
    const counting = countingTokenScript(scripts, `oauth-proxy-${run}.js`, `iap${run}`);
    const proxyAuth: CommandAuthenticator = createProxyAuthenticator({ command: [counting.file] });
    const admin = new ClientCredentialsAuthenticator({
      endpoint: 'flyte.example:443',
      clientId: BASIC_CLIENT.clientId,
      clientSecret: options.clientSecret ?? BASIC_CLIENT.clientSecret,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: `${proxy.address}/token`, scopes: ['api:read'] }),
      retry: FAST_RETRY,
      ...oauthHttpOptions({}, { proxyAuthenticator: proxyAuth }),
      ...options.http,
    });
    return { proxy, proxyAuth, admin, proxyRuns: () => scripts.runs(counting.counter) };
  }

  test('token requests carry proxy-authorization; the identity provider behind the proxy does not see it', async () => {
    const { proxy, admin, proxyRuns } = await setup();
    const before = idp.tokenRequestLog.length;
    await admin.refreshCredentials();
    await admin.refreshCredentials();
    assert.deepEqual(
      proxy.requests.map((r) => [r.path, r.proxyAuthorization, r.outcome]),
      [
        ['/token', `Bearer iap${run}-1`, 'forwarded'],
        ['/token', `Bearer iap${run}-1`, 'forwarded'],
      ],
    );
    assert.equal(proxyRuns(), 1);
    const reached = idp.tokenRequestLog.slice(before);
    assert.equal(reached.length, 2);
    for (const request of reached) {
      assert.equal(request.headers['proxy-authorization'], undefined);
      assert.equal(request.headers['x-flyte-grpc-auth-proxy-authorization'], undefined, 'the private header name never leaves');
      assert.match(String(request.headers.authorization), /^Basic /, 'the client authentication is untouched');
    }
  });

  for (const rejectStatus of [407, 401] as const) {
    test(`HTTP ${rejectStatus} from the proxy: one proxy refresh and one re-send`, async () => {
      const { proxy, admin, proxyRuns } = await setup({ rejectStatus });
      await admin.refreshCredentials();
      const before = idp.tokenRequestCount;
      proxy.accept = (token) => token !== `iap${run}-1`;
      const credentials = await admin.refreshCredentials();
      assert.ok(credentials.accessToken);
      assert.equal(proxyRuns(), 2);
      assert.equal(idp.tokenRequestCount - before, 1, 'the rejected request never reached the identity provider');
      assert.deepEqual(
        proxy.requests.map((r) => [r.proxyAuthorization, r.outcome]),
        [
          [`Bearer iap${run}-1`, 'forwarded'],
          [`Bearer iap${run}-1`, 'rejected'],
          [`Bearer iap${run}-2`, 'forwarded'],
        ],
      );
    });
  }

  test('a proxy that keeps rejecting: one re-send, then an error naming the token endpoint and the status', async () => {
    const { proxy, admin, proxyRuns } = await setup();
    proxy.accept = () => false;
    const error = await admin.refreshCredentials().then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'ERR_BAD_TOKEN_RESPONSE');
    assert.equal(error.message, `token endpoint ${proxy.address}/token answered HTTP 407 without a valid OAuth response`);
    assert.equal(proxyRuns(), 2);
    assert.equal(proxy.rejectedCount, 2);
  });

  test("the identity provider's own 401 (invalid_client) does not re-run the proxy command", async () => {
    const { proxy, admin, proxyRuns } = await setup({ clientSecret: 'wrong-secret' });
    const error = await admin.refreshCredentials().then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'ERR_OAUTH_RESPONSE');
    assert.equal(error.oauthError, 'invalid_client');
    assert.equal(proxyRuns(), 1);
    assert.equal(proxy.requests.length, 2, 'Basic, then once client_secret_post (auto-detection), both with the proxy token');
    assert.doesNotMatch(error.message, /wrong-secret/);
  });

  test('device authorization and refresh requests go through the same fetch and carry the header', async () => {
    const { proxy, proxyAuth } = await setup();
    const fetch = createOAuthFetch({ proxyAuthenticator: proxyAuth });
    const configuration = createOAuthConfiguration(
      {
        tokenEndpoint: `${proxy.address}/token`,
        deviceAuthorizationEndpoint: `${proxy.address}/device/auth`,
        issuer: idp.issuer,
        scopes: [],
      },
      PUBLIC_CLIENT.clientId,
      oidc.None(),
      fetch,
    );
    const device = await oidc.initiateDeviceAuthorization(configuration, { scope: 'openid' });
    assert.ok(device.user_code);
    await assert.rejects(oidc.refreshTokenGrant(configuration, 'not-a-refresh-token'), { error: 'invalid_grant' });
    assert.deepEqual(
      proxy.requests.map((r) => [r.path, r.proxyAuthorization]),
      [
        ['/device/auth', `Bearer iap${run}-1`],
        ['/token', `Bearer iap${run}-1`],
      ],
    );
  });

  test('your own fetch receives proxy-authorization as is', async () => {
    const { proxyAuth } = await setup();
    const seen: Array<string | undefined> = [];
    const fetch = createOAuthFetch({
      proxyAuthenticator: proxyAuth,
      fetch: async (url, init) => {
        seen.push(init.headers['proxy-authorization']);
        return globalThis.fetch(url, init as RequestInit);
      },
    });
    const response = await fetch(`${idp.issuer}/jwks`, { method: 'GET', headers: { accept: 'application/json' }, redirect: 'manual', body: undefined });
    assert.equal(response.status, 200);
    assert.deepEqual(seen, [`Bearer iap${run}-1`]);
  });

  test('through an HTTP CONNECT proxy (httpProxyUrl) as well: undici refuses proxy-authorization, the tunnel carries it', async () => {
    const connectProxy = await startConnectProxy();
    try {
      const { proxy, admin, proxyRuns } = await setup({ http: { httpProxyUrl: connectProxy.url } });
      await admin.refreshCredentials();
      proxy.rejectNext(1);
      await admin.refreshCredentials();
      const port = new URL(proxy.address).port;
      assert.ok(connectProxy.tunnels.length >= 1);
      assert.ok(connectProxy.tunnels.every((t) => t === `127.0.0.1:${port}`));
      assert.deepEqual(
        proxy.requests.map((r) => [r.proxyAuthorization, r.outcome]),
        [
          [`Bearer iap${run}-1`, 'forwarded'],
          [`Bearer iap${run}-1`, 'rejected'],
          [`Bearer iap${run}-2`, 'forwarded'],
        ],
      );
      assert.equal(proxyRuns(), 2);
    } finally {
      await connectProxy.close();
    }
  });
});

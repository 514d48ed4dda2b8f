import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuthenticationError, DeviceCodeAuthenticator, MemoryTokenStore, tokenStoreKey, type DeviceCodeAuthenticatorOptions } from '../../src/index.js';
import { observeUnary } from '../support/calls.js';
import { fastDevicePolling, LOGIN_OK, recordDiagnostics } from '../support/diagnostics.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { type InteractiveEnvironment, withInteractiveEnvironment } from '../support/interactive-environment.js';
import { mintRefreshToken } from '../support/refresh-token.js';

function device(env: InteractiveEnvironment, options: Partial<DeviceCodeAuthenticatorOptions> = {}): DeviceCodeAuthenticator {
  return new DeviceCodeAuthenticator({
    endpoint: env.server.address,
    cfgStore: env.cfgStore,
    retry: { retries: 0 },
    fetch: fastDevicePolling(env.idp.deviceAuthorizationEndpoint),
    ...options,
  });
}

test('a login: the anonymous call is rejected and retried; the token request (initial) holds the device login', async () => {
  await withInteractiveEnvironment(async (env) => {
    // The user approves as soon as the code is shown, so one poll completes the login.
    const auth = device(env, { onPrompt: async (prompt) => void (await createHeadlessBrowser().navigate(prompt.verificationUriComplete!)) });
    const recorder = recordDiagnostics();
    try {
      const observed = await observeUnary(env.newClient(auth), { text: 'hi' });
      assert.equal(observed.error, null);
    } finally {
      recorder.stop();
    }
    assert.deepEqual(recorder.names(), [
      'retry',
      'token:start',
      'token:end',
      ...LOGIN_OK,
      'token:asyncStart',
      'token:asyncEnd',
    ]);
    assert.deepEqual(recorder.of('retry')[0], {
      method: '/test.echo.Echo/Unary',
      code: 16,
      details: 'expected one authorization value, got 0',
      token: undefined,
    });
    assert.deepEqual(recorder.of('token:start')[0], {
      flow: 'deviceFlow',
      endpoint: env.server.address,
      tokenEndpoint: env.idp.tokenEndpoint,
      reason: 'initial',
    });
    assert.deepEqual(recorder.of('login:start')[0], { flow: 'deviceFlow', endpoint: env.server.address });
    assert.deepEqual(recorder.of('login:asyncEnd')[0], { flow: 'deviceFlow', endpoint: env.server.address, result: undefined });
    assert.equal(recorder.of('token:asyncEnd')[0]!.reason, 'initial');
  });
});

test('a denied login: login error, then the token request error, both with access_denied', async () => {
  await withInteractiveEnvironment(async (env) => {
    const auth = device(env, {
      onPrompt: async (prompt) => void (await createHeadlessBrowser({ decision: 'deny' }).navigate(prompt.verificationUriComplete!)),
    });
    const recorder = recordDiagnostics();
    try {
      await assert.rejects(auth.refreshCredentials(), (error: unknown) => error instanceof AuthenticationError && error.oauthError === 'access_denied');
    } finally {
      recorder.stop();
    }
    assert.deepEqual(recorder.names(), [
      'token:start',
      'token:end',
      'login:start',
      'login:end',
      'login:error',
      'login:asyncStart',
      'login:asyncEnd',
      'token:error',
      'token:asyncStart',
      'token:asyncEnd',
    ]);
    const loginError = recorder.of('login:asyncEnd')[0]!.error;
    assert.ok(loginError instanceof AuthenticationError);
    assert.equal(loginError.oauthError, 'access_denied');
    assert.equal(recorder.of('token:asyncEnd')[0]!.error, loginError);
  });
});

test('expiry: cached credentials past their expiry are renewed with the refresh token, reason expired, no login', async () => {
  await withInteractiveEnvironment(async (env) => {
    const tokenStore = new MemoryTokenStore();
    const refreshToken = await mintRefreshToken(env.idp);
    await tokenStore.set(tokenStoreKey(env.server.address, 'cli', 'deviceflow'), {
      accessToken: 'an-expired-opaque-access-token',
      refreshToken,
      expiresAt: Date.now() - 1_000,
      forEndpoint: env.server.address,
    });
    // The minted refresh token's grant has `offline_access`, not the test config's flyteadmin-style `offline`.
    const auth = device(env, { tokenStore, scopes: ['openid', 'offline_access'], onPrompt: () => assert.fail('no login expected') });
    const recorder = recordDiagnostics();
    try {
      assert.equal((await observeUnary(env.newClient(auth), { text: 'x' })).error, null);
    } finally {
      recorder.stop();
    }
    assert.deepEqual(recorder.names(), ['token:start', 'token:end', 'token:asyncStart', 'token:asyncEnd']);
    assert.deepEqual(recorder.of('token:start')[0], {
      flow: 'deviceFlow',
      endpoint: env.server.address,
      tokenEndpoint: env.idp.tokenEndpoint,
      reason: 'expired',
    });
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { refresh_token: 1 });
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import { test } from 'node:test';
import {
  AuthenticationError,
  ClientCredentialsAuthenticator,
  CommandAuthenticator,
  createProxyAuthenticator,
  DIAGNOSTICS_CHANNELS,
  PKCEAuthenticator,
  StaticClientConfigStore,
} from '../../src/index.js';
import { unary } from '../support/echo-service.js';
import { startEnvironment } from '../support/environment.js';
import { recordDiagnostics, TOKEN_FAILED, TOKEN_OK, waitFor, waitUntilRefreshDue } from '../support/diagnostics.js';
import { BASIC_CLIENT } from '../support/identity-provider.js';

const fingerprintOf = (token: string) => ({ length: token.length, sha256: createHash('sha256').update(token).digest('hex').slice(-4) });

test('the channel names are exported as constants', () => {
  assert.deepEqual(DIAGNOSTICS_CHANNELS, {
    token: 'flyte-grpc-auth:token',
    login: 'flyte-grpc-auth:login',
    retry: 'flyte-grpc-auth:retry',
    rejected: 'flyte-grpc-auth:rejected',
    store: 'flyte-grpc-auth:store',
  });
  assert.ok(Object.isFrozen(DIAGNOSTICS_CHANNELS));
});

test('cold start: one token request, reason initial; the token endpoint is filled in once the config store told it', async () => {
  const env = await startEnvironment();
  const recorder = recordDiagnostics();
  try {
    await unary(env.newClient(), { text: 'cold' });
    recorder.stop();
    assert.deepEqual(recorder.names(), TOKEN_OK);
    const base = { flow: 'clientSecret', endpoint: env.server.address, reason: 'initial' };
    // The first request learns the token endpoint from the config store during the request.
    assert.deepEqual(recorder.of('token:start')[0], { ...base, tokenEndpoint: undefined });
    const credentials = env.authenticator.getCredentials()!;
    const result = { expiresAt: credentials.expiresAt, token: fingerprintOf(credentials.accessToken) };
    assert.deepEqual(recorder.of('token:asyncEnd')[0], { ...base, tokenEndpoint: env.idp.tokenEndpoint, result });
    assert.equal(typeof credentials.expiresAt, 'number');
  } finally {
    recorder.stop();
    await env.close();
  }
});

test('proactive refresh and a known token endpoint: start already names it', async () => {
  // 10 s tokens renewed 9 s before expiry: the renewal falls due within a few seconds, well before the token expires.
  const env = await startEnvironment({ refreshWindowMs: 9_000, idp: { accessTokenTtlSeconds: 10 } });
  try {
    const client = env.newClient();
    await unary(client, { text: 'first' });
    // Due 5 s after the first request (the minimum interval for a 10 s token), waiting from 0.5 s before expiry: 4 s
    // before expiry lies between, with 1 s and 3.5 s to spare.
    await waitUntilRefreshDue(env.authenticator, 4_000);
    const first = env.authenticator.getCredentials()!.accessToken;
    const recorder = recordDiagnostics();
    try {
      await unary(client, { text: 'second' });
      // The renewal may finish after the call (a refresh in the background): wait for the new token.
      await waitFor(() => env.authenticator.getCredentials()!.accessToken !== first, 'the renewed token');
    } finally {
      recorder.stop();
    }
    assert.deepEqual(recorder.names(), TOKEN_OK);
    assert.deepEqual(recorder.of('token:start')[0], {
      flow: 'clientSecret',
      endpoint: env.server.address,
      tokenEndpoint: env.idp.tokenEndpoint,
      reason: 'proactive',
    });
    assert.equal(env.idp.tokenRequestCount, 2);
  } finally {
    await env.close();
  }
});

test('a failed token request: error then the async pair, the AuthenticationError with the OAuth error, no result', async () => {
  const env = await startEnvironment();
  const authenticator = new ClientCredentialsAuthenticator({
    endpoint: env.server.address,
    clientId: BASIC_CLIENT.clientId,
    clientSecret: 'wrong-secret-value',
    // Explicit, so that a refused Basic request is not tried again in the body (one token request).
    tokenEndpointAuthMethod: 'client_secret_basic',
    cfgStore: new StaticClientConfigStore(env.clientConfig),
  });
  const recorder = recordDiagnostics();
  try {
    await assert.rejects(authenticator.refreshCredentials(), (error: unknown) => error instanceof AuthenticationError && error.oauthError === 'invalid_client');
    recorder.stop();
    assert.deepEqual(recorder.names(), TOKEN_FAILED);
    const failed = recorder.of('token:asyncEnd')[0]!;
    assert.equal('result' in failed, false);
    assert.ok(failed.error instanceof AuthenticationError);
    assert.equal(failed.error.oauthError, 'invalid_client');
    assert.equal(failed.reason, 'initial');
    assert.equal(failed.tokenEndpoint, env.idp.tokenEndpoint);
    assert.equal(env.idp.tokenRequestCount, 1);
    assert.doesNotMatch(recorder.inspected(), /wrong-secret-value/);
  } finally {
    recorder.stop();
    await env.close();
  }
});

test('single flight: 20 concurrent cold calls publish one token request', async () => {
  const env = await startEnvironment();
  const recorder = recordDiagnostics();
  try {
    const client = env.newClient();
    await Promise.all(Array.from({ length: 20 }, (_, i) => unary(client, { text: `${i}` })));
    recorder.stop();
    assert.deepEqual(recorder.names(), TOKEN_OK);
    assert.equal(env.idp.tokenRequestCount, 1);
  } finally {
    recorder.stop();
    await env.close();
  }
});

test('a tokenEndpoint with credentials in it is published without them', async () => {
  const env = await startEnvironment();
  const url = new URL(env.idp.tokenEndpoint);
  url.username = 'proxy-user';
  url.password = 'proxy-password';
  const authenticator = new ClientCredentialsAuthenticator({
    endpoint: env.server.address,
    ...BASIC_CLIENT,
    cfgStore: new StaticClientConfigStore({ ...env.clientConfig, tokenEndpoint: url.href }),
    retry: { retries: 0 },
  });
  const recorder = recordDiagnostics();
  try {
    await authenticator.refreshCredentials().catch(() => undefined);
    recorder.stop();
    const tokenEndpoint = String(recorder.of('token:asyncEnd')[0]!.tokenEndpoint);
    assert.equal(tokenEndpoint, env.idp.tokenEndpoint.replace('http://', 'http://REDACTED:REDACTED@'));
  } finally {
    recorder.stop();
    await env.close();
  }
});

test('subscribers that throw do not break the request: Node reports their errors as uncaught exceptions, the call goes on', async () => {
  // diagnostics_channel catches a subscriber's exception and rethrows it on the next tick (process 'uncaughtException').
  // Intercepted here so that the test runner does not fail the test for it.
  const env = await startEnvironment();
  const seen: string[] = [];
  const original = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', (error) => seen.push(error.message));
  const throwing = (): never => {
    throw new Error('subscriber bug');
  };
  const handlers = { start: throwing, end: throwing, asyncStart: throwing, asyncEnd: throwing, error: throwing };
  diagnosticsChannel.tracingChannel(DIAGNOSTICS_CHANNELS.token).subscribe(handlers);
  try {
    assert.deepEqual(await unary(env.newClient(), { text: 'still works' }), { text: 'ok:still works', subject: 'svc-basic' });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ['subscriber bug', 'subscriber bug', 'subscriber bug', 'subscriber bug']);
  } finally {
    diagnosticsChannel.tracingChannel(DIAGNOSTICS_CHANNELS.token).unsubscribe(handlers);
    process.removeAllListeners('uncaughtException');
    for (const listener of original) process.on('uncaughtException', listener);
    await env.close();
  }
});

test('flow names: externalCommand, proxyCommand (no token endpoint, opaque token without expiry), pkce for the token request and its login', async () => {
  const command = [process.execPath, '-e', 'process.stdout.write("opaque-command-token")'];
  const recorder = recordDiagnostics();
  try {
    await new CommandAuthenticator({ command, endpoint: 'flyte.example.com:443' }).refreshCredentials();
    await createProxyAuthenticator({ command }).refreshCredentials();
    const pkce = new PKCEAuthenticator({
      endpoint: 'flyte.example.com:443',
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: 'http://127.0.0.1:9/token', clientId: 'cli', redirectUri: 'http://127.0.0.1:53593/callback', scopes: [] }),
      openBrowser: () => assert.fail('no browser expected'),
    });
    await assert.rejects(pkce.refreshCredentials(), (error: unknown) => error instanceof AuthenticationError && error.code === 'ERR_CONFIG');
  } finally {
    recorder.stop();
  }
  const fingerprint = fingerprintOf('opaque-command-token');
  assert.deepEqual(recorder.of('token:asyncEnd').slice(0, 2), [
    { flow: 'externalCommand', endpoint: 'flyte.example.com:443', tokenEndpoint: undefined, reason: 'initial', result: { expiresAt: undefined, token: fingerprint } },
    { flow: 'proxyCommand', endpoint: '', tokenEndpoint: undefined, reason: 'initial', result: { expiresAt: undefined, token: fingerprint } },
  ]);
  const [, , pkceStart] = recorder.of('token:start');
  assert.deepEqual(pkceStart, { flow: 'pkce', endpoint: 'flyte.example.com:443', tokenEndpoint: undefined, reason: 'initial' });
  assert.deepEqual(recorder.of('login:start'), [{ flow: 'pkce', endpoint: 'flyte.example.com:443' }]);
  assert.equal((recorder.of('login:asyncEnd')[0]!.error as AuthenticationError).code, 'ERR_CONFIG');
  assert.equal(recorder.of('token:asyncEnd')[2]!.tokenEndpoint, 'http://127.0.0.1:9/token');
});

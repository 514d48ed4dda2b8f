import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  AuthenticationError,
  ClientCredentialsAuthenticator,
  CommandAuthenticator,
  StaticClientConfigStore,
  createAuthInterceptors,
  createChannelCredentials,
  createProxyAuthenticator,
  isProxyRejection,
  isServerAuthRejection,
  oauthHttpOptions,
} from '../../src/index.js';
import { startGrpcAuthProxy, type TestAuthProxy } from '../support/auth-proxy.js';
import { countingTokenScript, createScriptDir, type ScriptDir } from '../support/commands.js';
import { EchoClient, bidi, clientStream, serverStream, unary, type EchoClientInstance } from '../support/echo-service.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';

const FAST_RETRY = { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 20 };

function status(code: grpc.status, details: string): grpc.StatusObject {
  return { code, details, metadata: new grpc.Metadata() };
}

async function callError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => assert.fail('expected the call to fail'),
    (error: unknown) => error as grpc.ServiceError,
  );
}

describe('proxy rejection tests', () => {
  test('isProxyRejection: only the statuses grpc-js makes from HTTP 407 and 401', () => {
    assert.equal(isProxyRejection(status(grpc.status.UNKNOWN, 'Received HTTP status code 407')), true);
    assert.equal(isProxyRejection(status(grpc.status.UNAUTHENTICATED, 'Received HTTP status code 401')), true);
    assert.equal(isProxyRejection(status(grpc.status.UNAUTHENTICATED, 'invalid token')), false, "the server's UNAUTHENTICATED");
    assert.equal(isProxyRejection(status(grpc.status.UNKNOWN, 'Received HTTP status code 500')), false);
    assert.equal(isProxyRejection(status(grpc.status.PERMISSION_DENIED, 'Received HTTP status code 403')), false);
    assert.equal(isProxyRejection(status(grpc.status.OK, '')), false);
  });

  test('isServerAuthRejection: UNAUTHENTICATED from the server, not from the proxy or a missing proxy token', () => {
    assert.equal(isServerAuthRejection(status(grpc.status.UNAUTHENTICATED, 'invalid token: ERR_JWT_EXPIRED')), true);
    assert.equal(isServerAuthRejection(status(grpc.status.UNAUTHENTICATED, '')), true);
    assert.equal(isServerAuthRejection(status(grpc.status.UNAUTHENTICATED, 'Received HTTP status code 401')), false);
    assert.equal(isServerAuthRejection(status(grpc.status.UNKNOWN, 'Received HTTP status code 407')), false);
    assert.equal(
      isServerAuthRejection(status(grpc.status.UNAUTHENTICATED, 'failed to obtain access token: proxy command `x` exited with code 1: …')),
      false,
    );
    assert.equal(isServerAuthRejection(status(grpc.status.PERMISSION_DENIED, 'forbidden')), false);
  });

  test('createAuthInterceptors: one interceptor without a proxy, admin then proxy with one', () => {
    const proxy = createProxyAuthenticator({ command: ['true'] });
    const admin = createProxyAuthenticator({ command: ['true'] });
    assert.equal(createAuthInterceptors({ authenticator: admin }).length, 1);
    assert.equal(createAuthInterceptors({ authenticator: admin, proxyAuthenticator: proxy }).length, 2);
  });

  test('the proxy authenticator sends proxy-authorization and names the proxy command in errors', async () => {
    const scripts = createScriptDir();
    try {
      const { file } = countingTokenScript(scripts, 'p.js', 'iap');
      const proxy = createProxyAuthenticator({ command: [file] });
      assert.deepEqual(await proxy.fetchGrpcCallAuthMetadata(), ['proxy-authorization', 'Bearer iap-1']);
      const failing = scripts.write('p-fails.sh', '#!/bin/sh\necho nope >&2\nexit 7\n');
      await assert.rejects(createProxyAuthenticator({ command: [failing] }).refreshCredentials(), {
        code: 'ERR_COMMAND',
        message: `proxy command \`${failing}\` exited with code 7: nope. Run it in a terminal to debug.`,
      });
      assert.throws(() => createProxyAuthenticator({ command: [] }), { code: 'ERR_CONFIG' });
    } finally {
      scripts.cleanup();
    }
  });
});

describe('gRPC behind an authenticating proxy (IAP style)', () => {
  let scripts: ScriptDir;
  let idp: TestIdentityProvider;
  let server: TestGrpcServer;
  const clients: grpc.Client[] = [];
  const proxies: TestAuthProxy[] = [];

  before(async () => {
    scripts = createScriptDir();
    idp = await startIdentityProvider();
    server = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const proxy of proxies) await proxy.close();
    await server.close();
    await idp.close();
    scripts.cleanup();
  });

  let run = 0;
  interface Setup {
    proxy: TestAuthProxy;
    proxyAuth: CommandAuthenticator;
    admin: ClientCredentialsAuthenticator;
    client: EchoClientInstance;
    proxyRuns: () => number;
  }

  /** A proxy in front of the server, a proxy command, admin client credentials and a client through the proxy. */
  async function setup(options: { rejectStatus?: 401 | 407; proxyScript?: string } = {}): Promise<Setup> {
    run += 1;
    const proxy = await startGrpcAuthProxy(server.address, options.rejectStatus ? { rejectStatus: options.rejectStatus } : {});
    proxies.push(proxy);
    const counting = countingTokenScript(scripts, `proxy-${run}.js`, `iap${run}`);
    const proxyAuth = createProxyAuthenticator({ command: [options.proxyScript ?? counting.file] });
    // The identity provider is not behind this proxy: these tests watch the gRPC side alone.
    const admin = new ClientCredentialsAuthenticator({
      endpoint: proxy.address,
      ...BASIC_CLIENT,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
      retry: FAST_RETRY,
      ...oauthHttpOptions({ insecure: true }),
    });
    const client = new EchoClient(proxy.address, createChannelCredentials({ insecure: true }), {
      interceptors: createAuthInterceptors({ authenticator: admin, proxyAuthenticator: proxyAuth }),
    });
    clients.push(client);
    return { proxy, proxyAuth, admin, client, proxyRuns: () => scripts.runs(counting.counter) };
  }

  beforeEach(() => {
    server.calls.length = 0;
  });

  test('every call type carries proxy-authorization; the server gets only the admin token', async () => {
    const { proxy, client, proxyRuns } = await setup();
    const tokensBefore = idp.tokenRequestCount;
    assert.equal((await unary(client, { text: 'u' })).text, 'ok:u');
    assert.deepEqual((await serverStream(client, { text: 's', count: 2 })).map((r) => r.text), ['s-0', 's-1']);
    assert.equal((await clientStream(client, [{ text: 'a' }, { text: 'b' }])).text, 'a,b');
    assert.deepEqual((await bidi(client, [{ text: 'x' }])).map((r) => r.text), ['echo:x']);
    assert.deepEqual(
      proxy.requests.map((r) => r.proxyAuthorization),
      Array.from({ length: 4 }, () => `Bearer iap${run}-1`),
    );
    assert.equal(proxyRuns(), 1, 'one proxy command run for all calls');
    assert.equal(idp.tokenRequestCount - tokensBefore, 1, 'one admin token');
    assert.equal(server.calls.length, 4);
    for (const call of server.calls) {
      assert.equal(call.outcome, 'ok');
      assert.deepEqual(call.metadata.get('proxy-authorization'), [], 'the proxy consumed its header');
    }
  });

  for (const rejectStatus of [407, 401] as const) {
    test(`a proxy rejection (HTTP ${rejectStatus}) re-runs the proxy command once and retries, without a new admin token`, async () => {
      const { proxy, client, proxyRuns } = await setup({ rejectStatus });
      await unary(client, { text: 'first' });
      const tokensBefore = idp.tokenRequestCount;
      // The proxy stops accepting the first token, as IAP does when it expires.
      proxy.accept = (token) => token !== `iap${run}-1`;
      assert.equal((await unary(client, { text: 'second' })).text, 'ok:second');
      assert.equal(proxyRuns(), 2);
      assert.equal(idp.tokenRequestCount, tokensBefore, 'no admin token request');
      assert.deepEqual(
        proxy.requests.map((r) => [r.proxyAuthorization, r.outcome]),
        [
          [`Bearer iap${run}-1`, 'forwarded'],
          [`Bearer iap${run}-1`, 'rejected'],
          [`Bearer iap${run}-2`, 'forwarded'],
        ],
      );
      assert.deepEqual(server.calls.map((c) => c.outcome), ['ok', 'ok'], 'the server saw each call once');
    });

    test(`a proxy that keeps rejecting (HTTP ${rejectStatus}): the call fails after one re-run, admin untouched`, async () => {
      const { proxy, client, proxyRuns } = await setup({ rejectStatus });
      await unary(client, { text: 'first' });
      const tokensBefore = idp.tokenRequestCount;
      proxy.accept = () => false;
      const error = await callError(unary(client, { text: 'second' }));
      const expected = rejectStatus === 407 ? grpc.status.UNKNOWN : grpc.status.UNAUTHENTICATED;
      assert.equal(error.code, expected);
      assert.equal(error.details, `Received HTTP status code ${rejectStatus}`);
      assert.equal(proxyRuns(), 2, 'the first run and one re-run');
      assert.equal(idp.tokenRequestCount, tokensBefore, 'a proxy rejection never starts an admin login');
      assert.equal(proxy.rejectedCount, 2);
      assert.equal(server.calls.length, 1);
    });
  }

  test('an admin rejection refreshes the admin token once and does not re-run the proxy command', async () => {
    const { proxy, client, proxyRuns } = await setup();
    await unary(client, { text: 'first' });
    const tokensBefore = idp.tokenRequestCount;
    server.rejectNext(1);
    assert.equal((await unary(client, { text: 'second' })).text, 'ok:second');
    assert.equal(idp.tokenRequestCount - tokensBefore, 1, 'one admin refresh');
    assert.equal(proxyRuns(), 1, 'no proxy command re-run');
    assert.deepEqual(server.calls.map((c) => c.outcome), ['ok', 'rejected by test', 'ok']);
    assert.equal(proxy.rejectedCount, 0);
  });

  test('a failing proxy command fails the call naming it; no admin refresh, nothing reaches the proxy', async () => {
    const failing = scripts.write('proxy-fails.sh', '#!/bin/sh\necho "secret-proxy-token"\necho "gcloud: reauthentication required" >&2\nexit 1\n');
    const { proxy, client } = await setup({ proxyScript: failing });
    const tokensBefore = idp.tokenRequestCount;
    const error = await callError(unary(client, { text: 'x' }));
    assert.equal(error.code, grpc.status.UNAUTHENTICATED);
    assert.equal(
      error.details,
      `failed to obtain access token: proxy command \`${failing}\` exited with code 1: gcloud: reauthentication required. Run it in a terminal to debug.`,
    );
    assert.doesNotMatch(error.details, /secret-proxy-token/);
    assert.equal(idp.tokenRequestCount - tokensBefore, 1, 'the admin token obtained up front, and no refresh');
    assert.equal(proxy.requests.length, 0);
  });

  test('proxy and admin rejections together: each authenticator refreshes once', async () => {
    const { proxy, client, proxyRuns } = await setup();
    await unary(client, { text: 'first' });
    const tokensBefore = idp.tokenRequestCount;
    proxy.rejectNext(1);
    server.rejectNext(1);
    assert.equal((await unary(client, { text: 'second' })).text, 'ok:second');
    assert.equal(proxyRuns(), 2);
    assert.equal(idp.tokenRequestCount - tokensBefore, 1);
    assert.deepEqual(
      proxy.requests.map((r) => r.outcome),
      ['forwarded', 'rejected', 'forwarded', 'forwarded'],
    );
  });

  test('concurrent calls rejected by the proxy share one proxy command run', async () => {
    const { proxy, client, proxyRuns } = await setup();
    await unary(client, { text: 'first' });
    proxy.accept = (token) => token !== `iap${run}-1`;
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => unary(client, { text: String(i) })));
    assert.equal(replies.length, 20);
    assert.equal(proxyRuns(), 2);
  });
});

describe('proxy authenticator errors are AuthenticationErrors', () => {
  test('ERR_COMMAND for a missing proxy command', async () => {
    const proxy = createProxyAuthenticator({ command: ['/nonexistent/iap-helper', '--audience', 'x'] });
    const error = await proxy.refreshCredentials().then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, 'ERR_COMMAND');
    assert.equal(error.message, 'proxy command not found: /nonexistent/iap-helper (from `/nonexistent/iap-helper --audience x`)');
  });
});

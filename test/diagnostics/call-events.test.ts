import { Code, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import * as grpc from '@grpc/grpc-js';
import { createChannel, createClientFactory, Status } from 'nice-grpc';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore } from '../../src/index.js';
import { observeStream, observeUnary } from '../support/calls.js';
import { recordDiagnostics, TOKEN_OK, waitFor } from '../support/diagnostics.js';
import { EchoClient, echoService, type EchoReply, type EchoRequest } from '../support/echo-service.js';
import { sharedEnvironment } from '../support/environment.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider } from '../support/identity-provider.js';
import { startConnectServer } from '../support/connect-server.js';
import { Echo } from '../support/gen/echo_pb.js';
import { startGrpcJsServers } from '../support/grpc-js-harness.js';
import { niceEchoDefinition } from '../support/nice-echo.js';
import { testAuthenticator } from '../support/test-authenticator.js';
import { createAuthInterceptor as createConnectAuthInterceptor } from '../../src/connect.js';
import { createAuthMiddleware } from '../../src/nice-grpc.js';
import { publishRejected, publishRetry } from '../../src/diagnostics/call-events.js';
import { publishStoreEvent } from '../../src/diagnostics/store-events.js';
import { traceLogin } from '../../src/diagnostics/login-trace.js';
import { traceTokenRequest } from '../../src/diagnostics/token-trace.js';

const UNARY = '/test.echo.Echo/Unary';
const fingerprintOf = (token: string) => ({ length: token.length, sha256: createHash('sha256').update(token).digest('hex').slice(-4) });

type ServerStreamMethod = (request: EchoRequest, metadata: grpc.Metadata, options?: grpc.CallOptions) => grpc.ClientReadableStream<EchoReply>;

describe('call events', () => {
  const shared = sharedEnvironment();
  const token = () => shared().authenticator.getCredentials()!.accessToken;

  test('a rejection with retry: retry (with the rejected token fingerprint), then a token request for reason rejected', async () => {
    shared().server.rejectNext(1);
    const rejected = token();
    const recorder = recordDiagnostics();
    try {
      const observed = await observeUnary(shared().newClient(), { text: 'retry' });
      assert.equal(observed.error, null);
    } finally {
      recorder.stop();
    }
    assert.deepEqual(recorder.names(), ['retry', ...TOKEN_OK]);
    assert.deepEqual(recorder.of('retry')[0], { method: UNARY, code: grpc.status.UNAUTHENTICATED, details: 'rejected by test', token: fingerprintOf(rejected) });
    assert.equal(recorder.of('token:start')[0]!.reason, 'rejected');
    assert.notEqual(token(), rejected);
  });

  // A rejection that reaches the caller still refreshes in the background (issue 7 item 3: a rejection always leads
  // to a new token); the recorder runs until that token request has ended, so the sequence is the whole story.
  test('a rejected retry: retry, token request, then rejected with retried: true and the new token fingerprint, then the background token request', async () => {
    shared().server.rejectNext(2);
    const first = token();
    const recorder = recordDiagnostics();
    try {
      const observed = await observeUnary(shared().newClient(), { text: 'no' });
      assert.equal(observed.error?.code, grpc.status.UNAUTHENTICATED);
      await waitFor(() => recorder.of('token:asyncEnd').length === 2, 'the background token request');
    } finally {
      recorder.stop();
    }
    assert.deepEqual(recorder.names(), ['retry', ...TOKEN_OK, 'rejected', ...TOKEN_OK]);
    assert.deepEqual(recorder.of('token:start').map((message) => message.reason), ['rejected', 'rejected']);
    const [retryToken, backgroundToken] = recorder.of('token:asyncEnd').map((message) => (message.result as { token: unknown }).token);
    assert.deepEqual(recorder.of('retry')[0], { method: UNARY, code: grpc.status.UNAUTHENTICATED, details: 'rejected by test', token: fingerprintOf(first) });
    assert.deepEqual(recorder.of('rejected')[0], {
      method: UNARY,
      code: grpc.status.UNAUTHENTICATED,
      details: 'rejected by test',
      token: retryToken,
      retried: true,
    });
    assert.notDeepEqual(retryToken, fingerprintOf(first));
    assert.deepEqual(backgroundToken, fingerprintOf(token()));
    assert.notDeepEqual(backgroundToken, retryToken);
    assert.equal(shared().idp.tokenRequestCount, 2);
  });

  test('a rejection that cannot be retried (the stream already delivered messages): rejected with retried: false, then only the background token request', async () => {
    const first = token();
    const recorder = recordDiagnostics();
    try {
      const call = (shared().newClient().ServerStream as ServerStreamMethod)({ text: 'fail-midstream', count: 2 }, new grpc.Metadata());
      const observed = await observeStream(call);
      assert.equal(observed.error?.code, grpc.status.UNAUTHENTICATED);
      await waitFor(() => recorder.of('token:asyncEnd').length === 1, 'the background token request');
    } finally {
      recorder.stop();
    }
    assert.deepEqual(recorder.names(), ['rejected', ...TOKEN_OK]);
    assert.deepEqual(recorder.of('rejected')[0], {
      method: '/test.echo.Echo/ServerStream',
      code: grpc.status.UNAUTHENTICATED,
      details: 'token expired mid-stream',
      token: fingerprintOf(first),
      retried: false,
    });
    assert.equal(recorder.of('token:start')[0]!.reason, 'rejected');
    assert.deepEqual((recorder.of('token:asyncEnd')[0]!.result as { token: unknown }).token, fingerprintOf(token()));
    assert.notEqual(token(), first);
    assert.equal(shared().idp.tokenRequestCount, 1);
  });

  test('statuses that are no auth rejection publish nothing', async () => {
    shared().server.failNext(grpc.status.PERMISSION_DENIED);
    const recorder = recordDiagnostics();
    try {
      assert.equal((await observeUnary(shared().newClient(), { text: 'x' })).error?.code, grpc.status.PERMISSION_DENIED);
      assert.equal((await observeUnary(shared().newClient(), { text: 'y' })).error, null);
    } finally {
      recorder.stop();
    }
    assert.deepEqual(recorder.names(), []);
  });

  test('a throwing isAuthRejection predicate: no event, the status reaches the caller', async () => {
    const interceptor = createAuthInterceptor(shared().authenticator, {
      isAuthRejection: () => {
        throw new Error('bug in the predicate');
      },
    });
    const client = new EchoClient(shared().server.address, grpc.credentials.createInsecure(), { interceptors: [interceptor] });
    shared().server.rejectNext(1);
    const recorder = recordDiagnostics();
    try {
      assert.equal((await observeUnary(client, { text: 'x' })).error?.code, grpc.status.UNAUTHENTICATED);
    } finally {
      recorder.stop();
      client.close();
    }
    assert.deepEqual(recorder.names(), []);
  });
});

test('a hostile server echoing the token in long, multi-line details: the event carries the fingerprint, escaped and capped', async () => {
  const idp = await startIdentityProvider();
  const seenTokens: string[] = [];
  const server = new grpc.Server();
  server.addService(echoService, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) => {
      const header = String(call.metadata.get('authorization')[0] ?? '');
      seenTokens.push(header.replace('Bearer ', ''));
      if (seenTokens.length > 1) {
        callback(null, { text: 'ok', subject: '' });
        return;
      }
      const details = `bad token ${header}\nFLYTE-GRPC-AUTH 1: token request ok fake=line\u001b[31m ${'x'.repeat(3000)}`;
      callback(Object.assign(new Error(details), { code: grpc.status.UNAUTHENTICATED, details }));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const authenticator = new ClientCredentialsAuthenticator({
    endpoint: `127.0.0.1:${port}`,
    ...BASIC_CLIENT,
    cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
  });
  const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(authenticator)] });
  const recorder = recordDiagnostics();
  try {
    assert.equal((await observeUnary(client, { text: 'x' })).error, null);
    recorder.stop();
    const retry = recorder.of('retry')[0]!;
    const details = String(retry.details);
    const first = seenTokens[0]!;
    assert.ok(first.length > 100, 'the server saw a real token');
    assert.equal(details.length, 1000);
    assert.ok(details.startsWith(`bad token Bearer <token len=${first.length} sha256=...${fingerprintOf(first).sha256}>\\nFLYTE-GRPC-AUTH 1: token request ok fake=line\\u001b[31m xxx`), details);
    assert.ok(details.endsWith('x...'));
    assert.ok(!recorder.inspected().includes(first));
    assert.ok(!recorder.inspected().includes(first.slice(0, 40)));
  } finally {
    recorder.stop();
    client.close();
    server.forceShutdown();
    await idp.close();
  }
});

test('nobody subscribed: nothing is built — no description read, no predicate asked, no message published', async () => {
  let described = 0;
  let asked = 0;
  const credentials = { accessToken: 'a-token-value', forEndpoint: 'e' };
  const describeRequest = () => {
    described += 1;
    return { flow: 'custom', endpoint: 'e', tokenEndpoint: undefined, reason: 'initial' as const };
  };
  assert.equal(await traceTokenRequest(describeRequest, async () => credentials), credentials);
  assert.equal(await traceLogin('pkce', 'e', async () => 'response'), 'response');
  publishRejected('/a/B', { code: 16, details: '' }, undefined, true, () => {
    asked += 1;
    return true;
  });
  publishRetry('/a/B', { code: 16, details: '' }, undefined);
  publishStoreEvent('file', 'lock-acquired', 1);
  assert.equal(described, 0);
  assert.equal(asked, 0);
  // And with a subscriber, the same calls do build and publish (so the counts above can fail).
  const recorder = recordDiagnostics();
  try {
    await traceTokenRequest(describeRequest, async () => credentials);
    publishRejected('/a/B', { code: 16, details: '' }, undefined, true, () => {
      asked += 1;
      return true;
    });
  } finally {
    recorder.stop();
  }
  assert.equal(described, 2, 'read at the start and again at the end (for the token endpoint)');
  assert.equal(asked, 1);
  assert.deepEqual(recorder.names(), [...TOKEN_OK, 'rejected']);
});

// The Connect interceptor and the nice-grpc middleware give AuthRetryPolicy the method path, as grpc-js does.
describe('retry events of the other adapters name the method /package.Service/Method', () => {
  test('Connect interceptor (Connect protocol)', async () => {
    const idp = await startIdentityProvider();
    const server = await startConnectServer({ idp, audience: API_AUDIENCE });
    const authenticator = testAuthenticator(idp, server.baseUrl);
    const client = createClient(Echo, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: '2', interceptors: [createConnectAuthInterceptor(authenticator)] }));
    const recorder = recordDiagnostics();
    try {
      await authenticator.refreshCredentials();
      const first = authenticator.getCredentials()!.accessToken;
      server.rejectNext(1);
      recorder.events.length = 0;
      assert.equal((await client.unary({ text: 'x' })).text, 'ok:x');
      assert.deepEqual(recorder.names(), ['retry', ...TOKEN_OK]);
      assert.deepEqual(recorder.of('retry')[0], { method: UNARY, code: Code.Unauthenticated, details: 'rejected by test', token: fingerprintOf(first) });
      assert.equal(recorder.of('token:start')[0]!.reason, 'rejected');
    } finally {
      recorder.stop();
      await server.close();
      await idp.close();
    }
  });

  test('nice-grpc middleware', async () => {
    const servers = await startGrpcJsServers();
    const authenticator = testAuthenticator(servers.idp, servers.server.address);
    const channel = createChannel(servers.server.address);
    const client = createClientFactory().use(createAuthMiddleware(authenticator)).create(niceEchoDefinition, channel);
    const recorder = recordDiagnostics();
    try {
      await authenticator.refreshCredentials();
      const first = authenticator.getCredentials()!.accessToken;
      servers.server.rejectNext(1);
      recorder.events.length = 0;
      assert.equal((await client.Unary({ text: 'x' })).text, 'ok:x');
      assert.deepEqual(recorder.names(), ['retry', ...TOKEN_OK]);
      assert.deepEqual(recorder.of('retry')[0], { method: UNARY, code: Status.UNAUTHENTICATED, details: 'rejected by test', token: fingerprintOf(first) });
      assert.equal(recorder.of('token:start')[0]!.reason, 'rejected');
    } finally {
      recorder.stop();
      channel.close();
      await servers.close();
    }
  });
});

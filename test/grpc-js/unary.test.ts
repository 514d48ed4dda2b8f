import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { observeUnary } from '../support/calls.js';
import { createAuthInterceptor } from '../../src/index.js';
import { EchoClient, unary } from '../support/echo-service.js';
import { refreshSettled } from '../support/custom-authenticators.js';
import { sharedEnvironment, startEnvironment } from '../support/environment.js';

describe('unary calls', () => {
  const shared = sharedEnvironment();

  test('the token is fetched before the first call, so no anonymous round trip is wasted', async () => {
    const cold = await startEnvironment();
    try {
      const reply = await unary(cold.newClient(), { text: 'hi' });
      assert.deepEqual(reply, { text: 'ok:hi', subject: 'svc-basic' });
      assert.equal(cold.idp.tokenRequestCount, 1);
      assert.deepEqual(cold.server.calls.map((call) => call.outcome), ['ok']);
    } finally {
      await cold.close();
    }
  });

  test('the header is set on a copy: the caller metadata is untouched and a stale value is replaced', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer stale-token');
    metadata.set('x-user', 'kept');
    const client = shared().newClient();
    await unary(client, { text: 'a' }, metadata);
    await unary(client, { text: 'b' }, metadata);
    assert.deepEqual(metadata.getMap(), { authorization: 'Bearer stale-token', 'x-user': 'kept' });
    const current = `Bearer ${shared().authenticator.getCredentials()!.accessToken}`;
    assert.deepEqual(shared().server.calls.map((call) => call.headerValues), [[current], [current]]);
    assert.deepEqual(shared().server.calls.map((call) => call.metadata.get('x-user')), [['kept'], ['kept']]);
  });

  test('UNAUTHENTICATED: one refresh, one retry, and the app sees only the final attempt', async () => {
    shared().server.rejectNext(1, { afterHeaders: true });
    const before = shared().authenticator.getCredentials()!.accessToken;
    const observed = await observeUnary(shared().newClient(), { text: 'retry' });
    assert.equal(observed.error, null);
    assert.deepEqual(observed.replies, [{ text: 'ok:retry', subject: 'svc-basic' }]);
    assert.deepEqual(observed.events, ['metadata', 'reply', 'status:0']);
    assert.deepEqual(observed.headers, ['2'], 'headers of the rejected attempt must not leak');
    assert.equal(shared().server.calls.length, 2);
    assert.equal(shared().idp.tokenRequestCount, 1);
    assert.notEqual(shared().authenticator.getCredentials()!.accessToken, before);
    assert.deepEqual(shared().server.calls[1]!.headerValues, [`Bearer ${shared().authenticator.getCredentials()!.accessToken}`]);
  });

  test('a second UNAUTHENTICATED reaches the caller as is, after exactly two attempts', async () => {
    shared().server.rejectNext(2, { afterHeaders: true });
    const observed = await observeUnary(shared().newClient(), { text: 'no' });
    assert.equal(observed.error?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(observed.error?.details, 'rejected by test');
    assert.deepEqual(observed.headers, ['2']);
    assert.equal(shared().server.calls.length, 2);
    // The retry's token was refused too: it is replaced in the background, for the next call.
    await refreshSettled(shared().authenticator);
    assert.equal(shared().idp.tokenRequestCount, 2);
  });

  for (const [name, code] of [
    ['PERMISSION_DENIED', grpc.status.PERMISSION_DENIED],
    ['UNKNOWN', grpc.status.UNKNOWN],
    ['UNAVAILABLE', grpc.status.UNAVAILABLE],
    ['INTERNAL', grpc.status.INTERNAL],
  ] as const) {
    test(`${name} is never retried and causes no refresh`, async () => {
      shared().server.failNext(code);
      const observed = await observeUnary(shared().newClient(), { text: 'x' });
      assert.equal(observed.error?.code, code);
      assert.equal(shared().server.calls.length, 1);
      assert.equal(shared().idp.tokenRequestCount, 0);
    });
  }

  test('a throwing isAuthRejection predicate does not crash: the status reaches the caller, no retry', { timeout: 10_000 }, async () => {
    const env = shared();
    const interceptor = createAuthInterceptor(env.authenticator, {
      isAuthRejection: () => {
        throw new Error('bug in the predicate');
      },
    });
    const client = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { interceptors: [interceptor] });
    try {
      env.server.rejectNext(1);
      const observed = await observeUnary(client, { text: 'x' });
      assert.equal(observed.error?.code, grpc.status.UNAUTHENTICATED);
      assert.equal(env.server.calls.length, 1);
    } finally {
      client.close();
    }
  });

  test('a JWT the server finds expired is rejected, refreshed and retried once', async () => {
    const skewed = await startEnvironment({ idp: { accessTokenTtlSeconds: 300 } });
    try {
      const client = skewed.newClient();
      await unary(client, { text: 'first' });
      // The server's clock runs 10 minutes ahead: the token our client trusts is expired there.
      skewed.server.advanceClock(600_000);
      skewed.idp.setAccessTokenTtl(3600);
      const reply = await unary(client, { text: 'second' });
      assert.equal(reply.text, 'ok:second');
      assert.deepEqual(
        skewed.server.calls.map((call) => call.outcome),
        ['ok', 'invalid token: ERR_JWT_EXPIRED', 'ok'],
      );
      assert.equal(skewed.idp.tokenRequestCount, 2);
    } finally {
      await skewed.close();
    }
  });
});

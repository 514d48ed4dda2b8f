import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAuthInterceptor } from '../../src/index.js';
import { runCall } from '../support/calls.js';
import { clientStream, EchoClient } from '../support/echo-service.js';
import { refreshSettled } from '../support/custom-authenticators.js';
import { sharedEnvironment } from '../support/environment.js';

describe('client-streaming calls', () => {
  const shared = sharedEnvironment();

  test('carry the header', async () => {
    const reply = await clientStream(shared().newClient(), [{ text: 'a' }, { text: 'b' }]);
    assert.deepEqual(reply, { text: 'a,b', subject: 'svc-basic' });
    assert.deepEqual(shared().server.calls[0]!.headerValues, [`Bearer ${shared().authenticator.getCredentials()!.accessToken}`]);
  });

  test('UNAUTHENTICATED: every request message is replayed, in order, exactly once', async () => {
    shared().server.rejectNext(1);
    const texts = Array.from({ length: 10 }, (_, index) => `m${index}`);
    const reply = await clientStream(shared().newClient(), texts.map((text) => ({ text })));
    assert.equal(reply.text, texts.join(','));
    assert.equal(shared().server.calls.length, 2);
    assert.equal(shared().idp.tokenRequestCount, 1);
  });

  test('a stream longer than the replay buffer is not retried; its token is replaced in the background', async () => {
    const env = shared();
    const interceptor = createAuthInterceptor(env.authenticator, { maxBufferedMessages: 2 });
    const client = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { interceptors: [interceptor] });
    try {
      // Rejected once all three were sent, so the interceptor certainly held more than it may replay.
      env.server.rejectNext(1, { afterLastRequest: true });
      await assert.rejects(clientStream(client, [{ text: 'a' }, { text: 'b' }, { text: 'c' }]), { code: grpc.status.UNAUTHENTICATED });
      assert.equal(env.server.calls.length, 1);
      await refreshSettled(env.authenticator);
      assert.equal(env.idp.tokenRequestCount, 1);
      // Within the bound the same call is retried.
      env.server.rejectNext(1);
      assert.equal((await clientStream(client, [{ text: 'a' }, { text: 'b' }])).text, 'a,b');
      assert.equal(env.server.calls.length, 3);
      assert.equal(env.idp.tokenRequestCount, 2);
    } finally {
      client.close();
    }
  });

  test('an app that writes only after the response headers completes: headers reach it at once (no deadlock)', async () => {
    // A deadline, so that a regression fails as DEADLINE_EXCEEDED instead of hanging the test.
    const outcome = await runCall(shared().newClient(), 'client-stream', { texts: ['a', 'b'], writeAfterHeaders: true, callOptions: { deadline: Date.now() + 20_000 } });
    assert.equal(outcome.status.code, grpc.status.OK, outcome.status.details);
    assert.deepEqual(outcome.headers, ['1']);
    assert.deepEqual(outcome.replies.map((reply) => reply.text), ['a,b']);
    assert.deepEqual(outcome.writeCallbacks, [1, 1]);
  });

  test('response headers commit the call: a rejection after them is final (gRPC A6), the token replaced in the background', async () => {
    shared().server.rejectNext(1, { afterHeaders: true });
    const outcome = await runCall(shared().newClient(), 'client-stream', { texts: ['a'] });
    assert.equal(outcome.status.code, grpc.status.UNAUTHENTICATED);
    assert.deepEqual(outcome.headers, ['1'], 'the headers were delivered, not held');
    assert.equal(shared().server.calls.length, 1);
    await refreshSettled(shared().authenticator);
    assert.equal(shared().idp.tokenRequestCount, 1);
  });

  describe('the replay is bounded in bytes too (maxBufferedBytes, default 1 MiB as grpc-js)', () => {
    const kib = (n: number, tag: string) => tag + 'x'.repeat(n * 1024 - tag.length);

    test('1.2 MiB of requests: over the default bound, not retried; the token is replaced in the background', async () => {
      const env = shared();
      env.server.rejectNext(1, { afterLastRequest: true });
      const texts = [kib(400, 'a'), kib(400, 'b'), kib(400, 'c')];
      const outcome = await runCall(env.newClient(), 'client-stream', { texts });
      assert.equal(outcome.status.code, grpc.status.UNAUTHENTICATED);
      assert.deepEqual(outcome.writeCallbacks, [1, 1, 1]);
      assert.equal(env.server.calls.length, 1);
      await refreshSettled(env.authenticator);
      assert.equal(env.idp.tokenRequestCount, 1);
    });

    test('0.8 MiB of requests: within the default bound, replayed in order', async () => {
      const env = shared();
      env.server.rejectNext(1);
      const texts = [kib(400, 'a'), kib(400, 'b')];
      const outcome = await runCall(env.newClient(), 'client-stream', { texts });
      assert.equal(outcome.status.code, grpc.status.OK);
      assert.equal(outcome.replies[0]!.text, texts.join(','));
      assert.equal(env.server.calls.length, 2);
      // The rejected attempt may have read any prefix before refusing; the retry reads everything, once, in order.
      assert.deepEqual(env.server.calls[1]!.requests.map((text) => text[0]), ['a', 'b']);
    });

    for (const type of ['client-stream', 'bidi'] as const) {
      test(`${type}: maxBufferedBytes 100 — two 60-byte requests are not replayed, one is`, async () => {
        const env = shared();
        const interceptor = createAuthInterceptor(env.authenticator, { maxBufferedBytes: 100 });
        const client = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { interceptors: [interceptor] });
        try {
          env.server.rejectNext(1, { afterLastRequest: true });
          const over = await runCall(client, type, { texts: ['1'.repeat(58), '2'.repeat(58)] });
          assert.equal(over.status.code, grpc.status.UNAUTHENTICATED);
          assert.equal(env.server.calls.length, 1);
          env.server.rejectNext(1);
          const within = await runCall(client, type, { texts: ['3'.repeat(58)] });
          assert.equal(within.status.code, grpc.status.OK);
          assert.equal(env.server.calls.length, 3);
        } finally {
          client.close();
        }
      });
    }

    for (const value of [-1, 1.5, Number.NaN]) {
      test(`maxBufferedBytes ${value} and maxBufferedMessages ${value} are configuration errors at once`, () => {
        for (const option of ['maxBufferedBytes', 'maxBufferedMessages'] as const) {
          assert.throws(() => createAuthInterceptor(shared().authenticator, { [option]: value }), {
            name: 'AuthenticationError',
            code: 'ERR_CONFIG',
            message: `${option} must be a non-negative integer or Infinity, got ${value}`,
          });
        }
      });
    }
  });
});

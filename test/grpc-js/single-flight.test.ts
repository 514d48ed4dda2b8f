import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { concurrently } from '../support/calls.js';
import { bidi, clientStream, EchoClient, serverStream, unary } from '../support/echo-service.js';
import { sharedEnvironment, startEnvironment } from '../support/environment.js';

describe('single flight', () => {
  test('50 concurrent calls of every type on a cold authenticator make one token request', async () => {
    const env = await startEnvironment();
    try {
      const client = env.newClient();
      const results = await concurrently(52, (index) => {
        switch (index % 4) {
          case 0:
            return unary(client, { text: `u${index}` }).then((reply) => reply.text);
          case 1:
            return serverStream(client, { text: `s${index}`, count: 1 }).then((replies) => replies[0]!.text);
          case 2:
            return clientStream(client, [{ text: `c${index}` }]).then((reply) => reply.text);
          default:
            return bidi(client, [{ text: `b${index}` }]).then((replies) => replies[0]!.text);
        }
      });
      assert.equal(results.length, 52);
      assert.equal(env.idp.tokenRequestCount, 1);
      assert.equal(env.server.calls.length, 52);
      assert.ok(env.server.calls.every((call) => call.outcome === 'ok'));
    } finally {
      await env.close();
    }
  });

  describe('with a token in use', () => {
    const shared = sharedEnvironment();

    test('20 calls rejected together cause one refresh; every call succeeds on its retry', async () => {
      const env = shared();
      const client = env.newClient();
      env.server.rejectNext(20);
      const replies = await concurrently(20, (index) => unary(client, { text: String(index) }));
      assert.deepEqual(replies.map((reply) => reply.text), Array.from({ length: 20 }, (_, index) => `ok:${index}`));
      assert.equal(env.idp.tokenRequestCount, 1);
      assert.equal(env.server.calls.length, 40);
    });

    test('a call rejected with an older token retries with the current one, without another refresh', async () => {
      const env = shared();
      const client = env.newClient();
      const stale = env.authenticator.currentAuthMetadata()!;
      await env.authenticator.refreshCredentials();
      env.idp.tokenRequestLog.length = 0;
      assert.notDeepEqual(await env.authenticator.refreshAfterRejection(stale), stale);
      assert.equal(env.idp.tokenRequestCount, 0);
      env.server.rejectNext(1);
      await unary(client, { text: 'x' });
      assert.equal(env.idp.tokenRequestCount, 1, 'the current token was rejected: one refresh');
    });

    test('one interceptor shared by two stubs over existing channel options: one token for both', async () => {
      const env = shared();
      const existingOptions: grpc.ClientOptions = {
        'grpc.keepalive_time_ms': 30_000,
        'grpc.max_receive_message_length': 8 << 20,
        'grpc.primary_user_agent': 'flyte-grpc-auth-tests',
      };
      const first = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { ...existingOptions, interceptors: [env.interceptor] });
      const second = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { ...existingOptions, interceptors: [env.interceptor] });
      try {
        env.server.rejectNext(2);
        const replies = await Promise.all([unary(first, { text: '1' }), unary(second, { text: '2' })]);
        assert.deepEqual(replies.map((reply) => reply.text), ['ok:1', 'ok:2']);
        assert.equal(env.idp.tokenRequestCount, 1);
        assert.ok(String(env.server.calls[0]!.metadata.get('user-agent')[0]).startsWith('flyte-grpc-auth-tests'));
      } finally {
        first.close();
        second.close();
      }
    });

    test('stubs sharing one channel through channelOverride are all authenticated', async () => {
      const env = shared();
      const channel = new grpc.Channel(env.server.address, grpc.credentials.createInsecure(), {});
      const first = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { channelOverride: channel, interceptors: [env.interceptor] });
      const second = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { channelOverride: channel, interceptors: [env.interceptor] });
      try {
        assert.equal(first.getChannel(), second.getChannel());
        await Promise.all([unary(first, { text: '1' }), unary(second, { text: '2' })]);
        assert.deepEqual(env.server.calls.map((call) => call.outcome), ['ok', 'ok']);
        assert.equal(env.idp.tokenRequestCount, 0);
      } finally {
        channel.close();
      }
    });

    test('a valid token adds no await: the next interceptor sees the call start synchronously', () => {
      const env = shared();
      let started = 0;
      const probe: grpc.Interceptor = (options, nextCall) =>
        new grpc.InterceptingCall(nextCall(options), {
          start: (metadata, listener, next) => {
            started += 1;
            next(metadata, listener);
          },
        });
      const client = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { interceptors: [env.interceptor, probe] });
      return new Promise<void>((resolve, reject) => {
        (client.Unary as (r: object, cb: grpc.requestCallback<unknown>) => grpc.ClientUnaryCall)({ text: 'sync' }, (error) => {
          client.close();
          if (error) reject(error);
          else resolve();
        });
        assert.equal(started, 1);
      });
    });
  });
});

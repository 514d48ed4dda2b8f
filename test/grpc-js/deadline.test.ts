import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CALL_TYPES, observeUnary, runCall, type CallOutcome } from '../support/calls.js';
import { bidi, clientStream, serverStream, type EchoClientInstance, type EchoReply, type EchoRequest } from '../support/echo-service.js';
import { startEnvironment, type TestEnvironment } from '../support/environment.js';

type BidiMethod = (metadata: grpc.Metadata, options?: grpc.CallOptions) => grpc.ClientDuplexStream<EchoRequest, EchoReply>;

/** Runs `run` against an environment whose token endpoint never answers, and closes it. */
async function withHangingTokenEndpoint(run: (env: TestEnvironment) => Promise<void>): Promise<void> {
  const env = await startEnvironment();
  try {
    env.idp.failTokenRequests({ kind: 'hang' }, 10);
    await run(env);
  } finally {
    await env.close();
  }
}

describe('deadlines and cancellation while a token is fetched', () => {
  test('a 200 ms deadline against a hanging token endpoint ends with DEADLINE_EXCEEDED, no call reaches the server', async () => {
    await withHangingTokenEndpoint(async (env) => {
    const started = Date.now();
    const observed = await observeUnary(env.newClient(), { text: 'late' }, new grpc.Metadata(), { deadline: Date.now() + 200 });
    const elapsed = Date.now() - started;
    assert.equal(observed.error?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(observed.error?.details, 'Deadline exceeded while obtaining access token');
    assert.ok(elapsed < 2_000, `ended after ${elapsed} ms`);
    assert.equal(env.server.calls.length, 0);
    assert.equal(env.idp.tokenRequestCount, 1);
    });
  });

  for (const [kind, call] of [
    ['server-streaming', (client, options) => serverStream(client, { text: 's' }, options)],
    ['client-streaming', (client, options) => clientStream(client, [{ text: 'a' }, { text: 'b' }], options)],
    ['bidi-streaming', (client, options) => bidi(client, [{ text: 'a' }], options)],
  ] as const satisfies ReadonlyArray<readonly [string, (client: EchoClientInstance, options: grpc.CallOptions) => Promise<unknown>]>) {
    test(`${kind}: the deadline ends the call while the token endpoint hangs`, async () => {
      await withHangingTokenEndpoint(async (env) => {
      const started = Date.now();
      await assert.rejects(call(env.newClient(), { deadline: Date.now() + 200 }), {
        code: grpc.status.DEADLINE_EXCEEDED,
        details: 'Deadline exceeded while obtaining access token',
      });
      assert.ok(Date.now() - started < 2_000);
      assert.equal(env.server.calls.length, 0);
      });
    });
  }

  test('cancel() while waiting for the token ends the stream with CANCELLED once', async () => {
    await withHangingTokenEndpoint(async (env) => {
    const call = (env.newClient().Bidi as BidiMethod)(new grpc.Metadata());
    const errors: number[] = [];
    const statuses: number[] = [];
    call.on('error', (error: grpc.ServiceError) => errors.push(error.code));
    call.on('status', (status: grpc.StatusObject) => statuses.push(status.code));
    call.write({ text: 'queued' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    call.cancel();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(errors, [grpc.status.CANCELLED]);
    assert.deepEqual(statuses, [grpc.status.CANCELLED]);
    assert.equal(env.server.calls.length, 0);
    });
  });

  test('unary: cancel() while waiting for the token ends the call with CANCELLED, no call reaches the server', async () => {
    await withHangingTokenEndpoint(async (env) => {
    const client = env.newClient();
    const outcome = new Promise<grpc.ServiceError | null>((resolve) => {
      const call = (client.Unary as (r: EchoRequest, cb: grpc.requestCallback<EchoReply>) => grpc.ClientUnaryCall)({ text: 'x' }, (error) =>
        resolve(error),
      );
      setTimeout(() => call.cancel(), 50);
    });
    const error = await outcome;
    assert.equal(error?.code, grpc.status.CANCELLED);
    assert.equal(env.server.calls.length, 0);
    });
  });

  test('the deadline also bounds the refresh before the retry', async () => {
    const env = await startEnvironment();
    try {
      await env.authenticator.refreshCredentials();
      env.idp.failTokenRequests({ kind: 'hang' }, 10);
      env.server.rejectNext(1, { afterHeaders: true });
      const observed = await observeUnary(env.newClient(), { text: 'late' }, new grpc.Metadata(), { deadline: Date.now() + 300 });
      assert.equal(observed.error?.code, grpc.status.DEADLINE_EXCEEDED);
      assert.deepEqual(observed.headers, [], 'the rejected attempt leaks nothing');
      assert.equal(env.server.calls.length, 1);
    } finally {
      await env.close();
    }
  });

  describe('any distance works: deadlines beyond 2^31-1 ms (24.8 days) are long deadlines, not immediate ones', () => {
    const DAY_MS = 24 * 3_600_000;

    /** Starts a call of every type while the token request is held, then releases it; resolves with the outcomes. */
    async function callsWaitingForToken(env: TestEnvironment, deadline: () => grpc.Deadline): Promise<CallOutcome[]> {
      let release!: () => void;
      env.idp.failTokenRequests({ kind: 'hold', until: new Promise<void>((resolve) => (release = resolve)) });
      const client = env.newClient();
      const outcomes = CALL_TYPES.map((type) => runCall(client, type, { texts: ['a'], callOptions: { deadline: deadline() } }));
      // The held token request proves every call is waiting; none may end before the token comes.
      while (env.idp.tokenRequestCount === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      release();
      return Promise.all(outcomes);
    }

    // The grpc-js *server* truncates a received timeout to 32 bits (`| 0`): 60 days and a year come out positive there.
    for (const [name, deadline] of [
      ['60 days (epoch ms)', () => Date.now() + 60 * DAY_MS],
      ['60 days (Date)', () => new Date(Date.now() + 60 * DAY_MS)],
      ['a year', () => Date.now() + 365 * DAY_MS],
      ['Infinity', () => Number.POSITIVE_INFINITY],
    ] as const) {
      test(`${name}: calls of every type wait for a slow token, then succeed`, async () => {
        const env = await startEnvironment();
        try {
          const ended = await callsWaitingForToken(env, deadline);
          assert.deepEqual(ended.map((outcome) => `${outcome.status.code} ${outcome.status.details}`), CALL_TYPES.map(() => '0 OK'));
          assert.equal(env.idp.tokenRequestCount, 1);
        } finally {
          await env.close();
        }
      });
    }

    test('30 days: the interceptor lets every call through to the server once the token comes', async () => {
      const env = await startEnvironment();
      try {
        const ended = await callsWaitingForToken(env, () => Date.now() + 30 * DAY_MS);
        assert.equal(env.server.calls.length, CALL_TYPES.length, 'no call ended while waiting for its token');
        // grpc-js 1.14's server turns a 30-day grpc-timeout into a negative timer and answers "Deadline exceeded"
        // at once: its bug, not the client's. Either answer is the server's, never "…while obtaining access token".
        for (const outcome of ended) assert.ok(['0 OK', '4 Deadline exceeded'].includes(`${outcome.status.code} ${outcome.status.details}`), outcome.status.details);
      } finally {
        await env.close();
      }
    });

    test('60 days: the refresh before a retry is waited for too', async () => {
      const env = await startEnvironment();
      try {
        await env.authenticator.refreshCredentials();
        let release!: () => void;
        env.idp.failTokenRequests({ kind: 'hold', until: new Promise<void>((resolve) => (release = resolve)) });
        env.server.rejectNext(1);
        const outcome = runCall(env.newClient(), 'unary', { callOptions: { deadline: Date.now() + 60 * DAY_MS } });
        while (env.idp.tokenRequestCount < 2) await new Promise((resolve) => setTimeout(resolve, 5));
        release();
        assert.equal((await outcome).status.code, grpc.status.OK);
        assert.equal(env.server.calls.length, 2);
      } finally {
        await env.close();
      }
    });
  });
});

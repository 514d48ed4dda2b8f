import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAuthInterceptor, type AuthInterceptorOptions } from '../../src/index.js';
import { concurrently, runCall, type CallType } from '../support/calls.js';
import { OpaqueTokenAuthenticator, refreshSettled } from '../support/custom-authenticators.js';
import { EchoClient, type EchoClientInstance } from '../support/echo-service.js';
import { sharedEnvironment, type TestEnvironment } from '../support/environment.js';
import { watchProcessErrors } from '../support/process-errors.js';

/**
 * Opaque tokens without expiry are the worst case: nothing but a rejection ever replaces them. A rejection the
 * interceptor cannot retry must still mark the token as refused, so the next call carries a new one.
 */
describe('a rejection always leads to a new token, also when the call cannot be retried', () => {
  const shared = sharedEnvironment();

  interface Setup {
    env: TestEnvironment;
    auth: OpaqueTokenAuthenticator;
    client: EchoClientInstance;
    /** The header value the authenticator holds now. */
    current(): string;
  }

  async function withOpaqueTokens(options: AuthInterceptorOptions, run: (setup: Setup) => Promise<void>): Promise<void> {
    const env = shared();
    const auth = new OpaqueTokenAuthenticator(env.authenticator);
    await auth.refreshCredentials();
    env.idp.tokenRequestLog.length = 0;
    const client = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(auth, options)] });
    const watch = watchProcessErrors();
    try {
      await run({ env, auth, client, current: () => `Bearer ${auth.getCredentials()!.accessToken}` });
      assert.deepEqual(watch.errors, []);
    } finally {
      watch.stop();
      client.close();
    }
  }

  /** The call ends with the server's status unchanged; one token request follows; the next call uses the new token. */
  async function assertRefreshedAfter(setup: Setup, type: CallType, texts: string[], expected: { details: string; attempts: number }): Promise<void> {
    const { env, auth, client } = setup;
    const rejected = setup.current();
    const outcome = await runCall(client, type, { texts });
    assert.equal(outcome.status.code, grpc.status.UNAUTHENTICATED);
    assert.equal(outcome.status.details, expected.details, 'the status reaches the app unchanged');
    assert.equal(env.server.calls.length, expected.attempts);
    await refreshSettled(auth);
    assert.equal(env.idp.tokenRequestCount, expected.attempts, 'one token request per rejection');
    assert.notEqual(setup.current(), rejected);
    const next = await runCall(client, 'unary', { texts: ['next'] });
    assert.equal(next.status.code, grpc.status.OK);
    assert.deepEqual(env.server.calls.at(-1)!.headerValues, [setup.current()], 'the next call carries the new token');
    assert.equal(env.idp.tokenRequestCount, expected.attempts, 'and needs no other');
  }

  test('client stream over the replay limit', async () => {
    await withOpaqueTokens({ maxBufferedMessages: 2 }, async (setup) => {
      setup.env.server.rejectNext(1, { afterLastRequest: true });
      await assertRefreshedAfter(setup, 'client-stream', ['a', 'b', 'c'], { details: 'rejected by test', attempts: 1 });
    });
  });

  test('server stream rejected after a message', async () => {
    await withOpaqueTokens({}, async (setup) => {
      setup.env.server.planNext({ kind: 'reject-after', messages: 1 });
      await assertRefreshedAfter(setup, 'server-stream', ['s'], { details: 'rejected after 1 message(s)', attempts: 1 });
    });
  });

  test('bidi rejected after a reply', async () => {
    await withOpaqueTokens({}, async (setup) => {
      setup.env.server.planNext({ kind: 'reject-after', messages: 1 });
      await assertRefreshedAfter(setup, 'bidi', ['a', 'b'], { details: 'rejected after 1 message(s)', attempts: 1 });
    });
  });

  for (const type of ['client-stream', 'bidi'] as const) {
    test(`${type} rejected after its response headers (committed, A6)`, async () => {
      await withOpaqueTokens({}, async (setup) => {
        setup.env.server.rejectNext(1, { afterHeaders: true });
        await assertRefreshedAfter(setup, type, ['a'], { details: 'rejected by test', attempts: 1 });
      });
    });
  }

  for (const type of ['unary', 'server-stream', 'client-stream', 'bidi'] as const) {
    test(`${type}: a second rejection (the retry's)`, async () => {
      await withOpaqueTokens({}, async (setup) => {
        setup.env.server.rejectNext(2);
        await assertRefreshedAfter(setup, type, ['a'], { details: 'rejected by test', attempts: 2 });
      });
    });
  }

  test('a wave of 12 rejections that cannot be retried makes exactly one token request', async () => {
    await withOpaqueTokens({}, async (setup) => {
      const { env, auth, client } = setup;
      const current = (): string => setup.current();
      const rejected = current();
      env.server.planNext(...Array.from({ length: 12 }, () => ({ kind: 'reject-after', messages: 1 }) as const));
      const outcomes = await concurrently(12, () => runCall(client, 'server-stream', { texts: ['wave'] }));
      assert.deepEqual(outcomes.map((outcome) => outcome.status.code), Array(12).fill(grpc.status.UNAUTHENTICATED));
      await refreshSettled(auth);
      assert.equal(env.idp.tokenRequestCount, 1);
      assert.notEqual(current(), rejected);
      assert.equal((await runCall(client, 'bidi', { texts: ['x'] })).status.code, grpc.status.OK);
      assert.equal(env.idp.tokenRequestCount, 1);
    });
  });

  test('a background refresh that fails is dropped: no unhandled rejection, the call keeps its status', async () => {
    await withOpaqueTokens({}, async (setup) => {
      const { env, auth, client } = setup;
      const current = (): string => setup.current();
      const rejected = current();
      env.idp.failTokenRequests({ kind: 'status', status: 400, body: '{"error":"invalid_client"}', contentType: 'application/json' });
      env.server.planNext({ kind: 'reject-after', messages: 1 });
      const outcome = await runCall(client, 'server-stream', { texts: ['s'] });
      assert.equal(outcome.status.details, 'rejected after 1 message(s)');
      await refreshSettled(auth);
      assert.equal(env.idp.tokenRequestCount, 1);
      assert.equal(current(), rejected, 'nothing better to use');
      // The next rejection of the same token (retryable this time) refreshes again and succeeds.
      env.server.rejectNext(1);
      assert.equal((await runCall(client, 'unary')).status.code, grpc.status.OK);
      assert.equal(env.idp.tokenRequestCount, 2);
      assert.notEqual(current(), rejected);
    });
  });
});

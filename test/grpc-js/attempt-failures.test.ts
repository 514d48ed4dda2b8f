import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { createAuthInterceptor } from '../../src/index.js';
import { CALL_TYPES, runCall, type CallOutcome, type CallType } from '../support/calls.js';
import { FixedHeaderAuthenticator } from '../support/custom-authenticators.js';
import { EchoClient } from '../support/echo-service.js';
import { sharedEnvironment, startEnvironment } from '../support/environment.js';
import { watchProcessErrors } from '../support/process-errors.js';
import { BAD_HEADER_KEYS } from '../support/header-keys.js';


const TOKEN_PREFIX = 'failed to obtain access token: ';

/** Asserts the call ended once with `code` and `details`, wrote nothing twice, and shows nothing of `secret`. */
function assertEndedOnce(outcome: CallOutcome, type: CallType, code: grpc.status, details: string | RegExp, secret?: string): void {
  assert.equal(outcome.status.code, code, `${type}: ${outcome.status.details}`);
  if (details instanceof RegExp) assert.match(outcome.status.details, details);
  else assert.equal(outcome.status.details, details);
  assert.equal(outcome.statusEvents, 1, `${type}: one status`);
  assert.equal(outcome.errorEvents, 1, `${type}: one error`);
  assert.deepEqual(outcome.writeCallbacks, outcome.writeCallbacks.map(() => 1), `${type}: every write callback once`);
  if (secret) assert.ok(!inspect(outcome.status, { depth: Infinity }).includes(secret), `${type}: the status shows the token`);
}

describe('nothing escapes the interceptor: a failure while an attempt opens ends that call with one status', () => {
  const shared = sharedEnvironment();

  /** Runs every call type through `interceptors`; asserts no process error and no call reached the server. */
  async function eachCallType(interceptors: grpc.Interceptor[], check: (outcome: CallOutcome, type: CallType) => void): Promise<void> {
    const env = shared();
    const watch = watchProcessErrors();
    const client = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { interceptors });
    try {
      for (const type of CALL_TYPES) check(await runCall(client, type, { texts: ['a', 'b'] }), type);
      assert.deepEqual(watch.errors, []);
      assert.equal(env.server.calls.length, 0);
    } finally {
      watch.stop();
      client.close();
    }
  }

  const badTokens: Array<[string, string, string]> = [
    ['CR/LF', 'abc\r\nx-injected: 1', 'it contains a control character'],
    ['a space', 'two words', 'it contains a space'],
    ['non-ASCII', 'tökén-ünïcode', 'it contains a non-ASCII character'],
    ['nothing', '', 'it is empty'],
  ];
  for (const [what, token, reason] of badTokens) {
    for (const cached of [true, false]) {
      test(`a token with ${what} (${cached ? 'cached' : 'obtained during the call'}): UNAUTHENTICATED naming the fault, never the token`, async () => {
        const authenticator = new FixedHeaderAuthenticator(['authorization', `Bearer ${token}`], { cached });
        await eachCallType([createAuthInterceptor(authenticator)], (outcome, type) =>
          assertEndedOnce(
            outcome,
            type,
            grpc.status.UNAUTHENTICATED,
            `${TOKEN_PREFIX}the access token cannot be sent in the "authorization" header: ${reason}`,
            token || undefined,
          ),
        );
      });
    }
  }

  for (const key of Object.keys(BAD_HEADER_KEYS)) {
    test(`a header key ${JSON.stringify(key)} (the server's authorization_metadata_key, say): INTERNAL naming the key`, async () => {
      const authenticator = new FixedHeaderAuthenticator([key, 'Bearer header-key-token'], { cached: false });
      await eachCallType([createAuthInterceptor(authenticator)], (outcome, type) =>
        assertEndedOnce(
          outcome,
          type,
          grpc.status.INTERNAL,
          `invalid auth header key ${JSON.stringify(key)}: ${BAD_HEADER_KEYS[key]}`,
          'header-key-token',
        ),
      );
    });
  }

  test('an interceptor after ours that throws when its call is created (a throwing nextCall): INTERNAL with its message', async () => {
    const broken: grpc.Interceptor = () => {
      throw new Error('inner interceptor bug');
    };
    await eachCallType([shared().interceptor, broken], (outcome, type) => assertEndedOnce(outcome, type, grpc.status.INTERNAL, 'inner interceptor bug'));
  });

  test('an interceptor whose start throws quoting the header: INTERNAL, the token redacted', async () => {
    const env = shared();
    const token = env.authenticator.getCredentials()!.accessToken;
    const quoting: grpc.Interceptor = (options, nextCall) =>
      new grpc.InterceptingCall(nextCall(options), {
        start(metadata) {
          throw new Error(`refusing ${String(metadata.get('authorization')[0])}`);
        },
      });
    await eachCallType([env.interceptor, quoting], (outcome, type) =>
      assertEndedOnce(outcome, type, grpc.status.INTERNAL, 'refusing [REDACTED]', token),
    );
  });

  test('an authenticator whose currentAuthMetadata throws: INTERNAL with its message', async () => {
    const authenticator = new FixedHeaderAuthenticator(['authorization', 'Bearer unused'], { cached: true });
    authenticator.currentAuthMetadata = () => {
      throw new Error('custom authenticator bug');
    };
    await eachCallType([createAuthInterceptor(authenticator)], (outcome, type) =>
      assertEndedOnce(outcome, type, grpc.status.INTERNAL, 'custom authenticator bug'),
    );
  });

  test('a throwing isAuthRejection: the server status reaches the app unchanged, once, for every call type', async () => {
    const env = shared();
    const interceptor = createAuthInterceptor(env.authenticator, {
      isAuthRejection: () => {
        throw new Error('bug in the predicate');
      },
    });
    const watch = watchProcessErrors();
    const client = new EchoClient(env.server.address, grpc.credentials.createInsecure(), { interceptors: [interceptor] });
    try {
      for (const type of CALL_TYPES) {
        env.server.rejectNext(1);
        assertEndedOnce(await runCall(client, type, { texts: ['a'] }), type, grpc.status.UNAUTHENTICATED, 'rejected by test');
      }
      assert.deepEqual(watch.errors, []);
      assert.equal(env.server.calls.length, 4, 'no retry');
    } finally {
      watch.stop();
      client.close();
    }
  });
});

describe('a closed client: calls end UNAVAILABLE, as grpc-js ends calls that had not started', () => {
  test('calls of every type waiting for a token when the client closes', async () => {
    const env = await startEnvironment();
    const watch = watchProcessErrors();
    try {
      let release!: () => void;
      env.idp.failTokenRequests({ kind: 'hold', until: new Promise<void>((resolve) => (release = resolve)) });
      const client = env.newClient();
      const outcomes = CALL_TYPES.map((type) => runCall(client, type, { texts: ['a', 'b'] }));
      await waitFor(() => env.idp.tokenRequestCount === 1);
      client.close();
      release();
      const ended = await Promise.all(outcomes);
      ended.forEach((outcome, index) => assertEndedOnce(outcome, CALL_TYPES[index]!, grpc.status.UNAVAILABLE, 'Channel closed before call started'));
      assert.equal(env.idp.tokenRequestCount, 1);
      assert.equal(env.server.calls.length, 0);
      assert.deepEqual(watch.errors, []);
    } finally {
      watch.stop();
      await env.close();
    }
  });

  test('calls of every type started after close() end UNAVAILABLE instead of throwing from the client method', async () => {
    const env = await startEnvironment();
    const watch = watchProcessErrors();
    try {
      await env.authenticator.refreshCredentials();
      const client = env.newClient();
      client.close();
      for (const type of CALL_TYPES) {
        assertEndedOnce(await runCall(client, type, { texts: ['a'] }), type, grpc.status.UNAVAILABLE, 'Channel closed before call started');
      }
      assert.deepEqual(watch.errors, []);
    } finally {
      watch.stop();
      await env.close();
    }
  });

  test('a call waiting for the refresh before its retry when the client closes', async () => {
    const env = await startEnvironment();
    const watch = watchProcessErrors();
    try {
      await env.authenticator.refreshCredentials();
      let release!: () => void;
      env.idp.failTokenRequests({ kind: 'hold', until: new Promise<void>((resolve) => (release = resolve)) });
      env.server.rejectNext(1);
      const client = env.newClient();
      const outcome = runCall(client, 'unary');
      await waitFor(() => env.idp.tokenRequestCount === 2);
      client.close();
      release();
      assertEndedOnce(await outcome, 'unary', grpc.status.UNAVAILABLE, 'Channel closed before call started');
      assert.equal(env.server.calls.length, 1);
      assert.deepEqual(watch.errors, []);
    } finally {
      watch.stop();
      await env.close();
    }
  });
});

/** Polls `condition` on the event loop (bounded): for states that have no event to wait on. */
async function waitFor(condition: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 1_000; i += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

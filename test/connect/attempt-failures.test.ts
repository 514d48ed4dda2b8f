import { createClient, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { createAuthInterceptor, type Authenticator } from '../../src/connect.js';
import { CALL_KINDS, type CallKind, type CallOutcome } from '../support/auth-behaviour.js';
import { connectEchoCall } from '../support/connect-harness.js';
import { FixedHeaderAuthenticator } from '../support/custom-authenticators.js';
import { Echo } from '../support/gen/echo_pb.js';
import { startGrpcJsServers } from '../support/grpc-js-harness.js';
import { watchProcessErrors } from '../support/process-errors.js';
import { testAuthenticator } from '../support/test-authenticator.js';
import { BAD_HEADER_KEYS } from '../support/header-keys.js';


const TOKEN_PREFIX = 'failed to obtain access token: ';
const INTERNAL = 13;
const UNAUTHENTICATED = 16;

describe('Connect: nothing escapes the interceptor; a failure while an attempt opens ends that call with one error', () => {
  let servers: Awaited<ReturnType<typeof startGrpcJsServers>>;
  before(async () => {
    servers = await startGrpcJsServers();
  });
  after(() => servers.close());
  beforeEach(() => {
    servers.server.calls.length = 0;
  });

  /** Runs every call type with `authenticator` and `inner` interceptors after ours; no process error, no server call. */
  async function eachCallKind(authenticator: Authenticator, check: (outcome: CallOutcome, kind: CallKind) => void, inner: Interceptor[] = []): Promise<void> {
    const watch = watchProcessErrors();
    const client = createClient(Echo, createGrpcTransport({ baseUrl: `http://${servers.server.address}`, interceptors: [createAuthInterceptor(authenticator), ...inner] }));
    try {
      for (const kind of CALL_KINDS) check(await connectEchoCall(client, kind, ['a', 'b']), kind);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(watch.errors, []);
      assert.equal(servers.server.calls.length, 0);
    } finally {
      watch.stop();
    }
  }

  function assertFailed(outcome: CallOutcome, kind: CallKind, code: number, message: string, secret?: string): void {
    assert.deepEqual(outcome, { texts: [], error: { code, message }, headers: [] }, kind);
    if (secret) assert.ok(!inspect(outcome, { depth: Infinity }).includes(secret), `${kind}: the error shows the token`);
  }

  for (const [what, token, reason] of [
    ['CR/LF', 'abc\r\nx-injected: 1', 'it contains a control character'],
    ['a space', 'two words', 'it contains a space'],
    ['non-ASCII', 'tökén-ünïcode', 'it contains a non-ASCII character'],
    ['nothing', '', 'it is empty'],
  ] as const) {
    for (const cached of [true, false]) {
      test(`a token with ${what} (${cached ? 'cached' : 'obtained during the call'}): unauthenticated naming the fault, never the token`, async () => {
        await eachCallKind(new FixedHeaderAuthenticator(['authorization', `Bearer ${token}`], { cached }), (outcome, kind) =>
          assertFailed(outcome, kind, UNAUTHENTICATED, `${TOKEN_PREFIX}the access token cannot be sent in the "authorization" header: ${reason}`, token || undefined),
        );
      });
    }
  }

  for (const key of Object.keys(BAD_HEADER_KEYS)) {
    test(`a header key ${JSON.stringify(key)}: internal naming the key`, async () => {
      await eachCallKind(new FixedHeaderAuthenticator([key, 'Bearer header-key-token'], { cached: false }), (outcome, kind) =>
        assertFailed(
          outcome,
          kind,
          INTERNAL,
          `invalid auth header key ${JSON.stringify(key)}: ${BAD_HEADER_KEYS[key]}`,
          'header-key-token',
        ),
      );
    });
  }

  test('an authenticator whose currentAuthMetadata throws: internal with its message', async () => {
    const authenticator = new FixedHeaderAuthenticator(['authorization', 'Bearer unused'], { cached: true });
    authenticator.currentAuthMetadata = () => {
      throw new Error('custom authenticator bug');
    };
    await eachCallKind(authenticator, (outcome, kind) => assertFailed(outcome, kind, INTERNAL, 'custom authenticator bug'));
  });

  test('an interceptor after ours that throws quoting the header: internal, the token redacted', async () => {
    const authenticator = testAuthenticator(servers.idp, servers.server.address);
    await authenticator.refreshCredentials();
    const token = authenticator.getCredentials()!.accessToken;
    const quoting: Interceptor = () => async (req) => {
      throw new Error(`refusing ${req.header.get('authorization')}`);
    };
    await eachCallKind(authenticator, (outcome, kind) => assertFailed(outcome, kind, INTERNAL, 'refusing [REDACTED]', token), [quoting]);
  });
});

describe('Connect: the request stream', () => {
  let servers: Awaited<ReturnType<typeof startGrpcJsServers>>;
  let authenticator: ReturnType<typeof testAuthenticator>;
  before(async () => {
    servers = await startGrpcJsServers();
    authenticator = testAuthenticator(servers.idp, servers.server.address);
    await authenticator.refreshCredentials();
  });
  after(() => servers.close());

  test('an application stream that fails while a retry is pending: the call ends once with its error, nothing unhandled', async () => {
    const watch = watchProcessErrors();
    try {
      const client = createClient(Echo, createGrpcTransport({ baseUrl: `http://${servers.server.address}`, interceptors: [createAuthInterceptor(authenticator)] }));
      servers.server.rejectNext(1);
      async function* requests(): AsyncGenerator<{ text: string }> {
        yield { text: 'a' };
        yield { text: 'b' };
        throw new Error('the application stream broke');
      }
      const error = await client.clientStream(requests()).then(
        () => assert.fail('expected a rejection'),
        (reason: unknown) => reason as Error,
      );
      assert.match(String(error), /the application stream broke/);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(watch.errors, []);
    } finally {
      watch.stop();
    }
  });

  test('a bidi stream replayed after a rejection, then fed one message per reply (ping-pong)', async () => {
    const client = createClient(Echo, createGrpcTransport({ baseUrl: `http://${servers.server.address}`, interceptors: [createAuthInterceptor(authenticator)] }));
    servers.server.calls.length = 0;
    servers.server.rejectNext(1);
    // The next request waits for the previous reply: the retry must not wait for messages the app has not sent.
    let reply: (() => void) | undefined;
    async function* pingPong(): AsyncGenerator<{ text: string }> {
      for (const text of ['p0', 'p1', 'p2']) {
        yield { text };
        await new Promise<void>((resolve) => (reply = resolve));
      }
    }
    const texts: string[] = [];
    for await (const message of client.bidi(pingPong())) {
      texts.push(message.text);
      reply?.();
    }
    assert.deepEqual(texts, ['echo:p0', 'echo:p1', 'echo:p2']);
    assert.equal(servers.server.calls.length, 2);
    assert.deepEqual(servers.server.calls[1]!.requests, ['p0', 'p1', 'p2']);
  });
});

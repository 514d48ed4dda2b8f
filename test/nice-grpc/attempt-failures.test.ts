import { createChannel, createClientFactory, Status, type Channel, type ClientMiddleware } from 'nice-grpc';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { createAuthMiddleware, type Authenticator } from '../../src/nice-grpc.js';
import { CALL_KINDS, type CallKind, type CallOutcome } from '../support/auth-behaviour.js';
import { FixedHeaderAuthenticator } from '../support/custom-authenticators.js';
import { startGrpcJsServers } from '../support/grpc-js-harness.js';
import { niceEchoDefinition } from '../support/nice-echo.js';
import { niceEchoCall } from '../support/nice-harness.js';
import { watchProcessErrors } from '../support/process-errors.js';
import { testAuthenticator } from '../support/test-authenticator.js';

const TOKEN_PREFIX = 'failed to obtain access token: ';

describe('nice-grpc: nothing escapes the middleware; a failure while an attempt opens ends that call with one error', () => {
  let servers: Awaited<ReturnType<typeof startGrpcJsServers>>;
  const channels: Channel[] = [];
  before(async () => {
    servers = await startGrpcJsServers();
  });
  after(async () => {
    for (const channel of channels) channel.close();
    await servers.close();
  });
  beforeEach(() => {
    servers.server.calls.length = 0;
  });

  /** Runs every call type with `authenticator` and `inner` middleware below ours; no process error, no server call. */
  async function eachCallKind(authenticator: Authenticator, check: (outcome: CallOutcome, kind: CallKind) => void, inner?: ClientMiddleware): Promise<void> {
    const watch = watchProcessErrors();
    const channel = createChannel(servers.server.address);
    channels.push(channel);
    // The middleware added last is the outermost: `inner` first.
    const factory = inner ? createClientFactory().use(inner) : createClientFactory();
    const client = factory.use(createAuthMiddleware(authenticator)).create(niceEchoDefinition, channel);
    try {
      for (const kind of CALL_KINDS) check(await niceEchoCall(client, kind, ['a', 'b']), kind);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(watch.errors, []);
      assert.equal(servers.server.calls.length, 0);
    } finally {
      watch.stop();
    }
  }

  function assertFailed(outcome: CallOutcome, kind: CallKind, code: Status, message: string, secret?: string): void {
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
      test(`a token with ${what} (${cached ? 'cached' : 'obtained during the call'}): UNAUTHENTICATED naming the fault, never the token`, async () => {
        await eachCallKind(new FixedHeaderAuthenticator(['authorization', `Bearer ${token}`], { cached }), (outcome, kind) =>
          assertFailed(outcome, kind, Status.UNAUTHENTICATED, `${TOKEN_PREFIX}the access token cannot be sent in the "authorization" header: ${reason}`, token || undefined),
        );
      });
    }
  }

  test('a header key "x-token-bin": INTERNAL naming the key', async () => {
    await eachCallKind(new FixedHeaderAuthenticator(['x-token-bin', 'Bearer header-key-token'], { cached: true }), (outcome, kind) =>
      assertFailed(
        outcome,
        kind,
        Status.INTERNAL,
        'invalid auth header key "x-token-bin": keys ending in -bin carry binary values; a token needs a text key',
        'header-key-token',
      ),
    );
  });

  test('an authenticator whose fetchGrpcCallAuthMetadata throws synchronously: INTERNAL with its message', async () => {
    const authenticator = new FixedHeaderAuthenticator(['authorization', 'Bearer unused'], { cached: false });
    authenticator.fetchGrpcCallAuthMetadata = () => {
      throw new Error('custom authenticator bug');
    };
    await eachCallKind(authenticator, (outcome, kind) => assertFailed(outcome, kind, Status.INTERNAL, 'custom authenticator bug'));
  });

  test('a middleware below ours that throws quoting the header: INTERNAL, the token redacted', async () => {
    const authenticator = testAuthenticator(servers.idp, servers.server.address);
    await authenticator.refreshCredentials();
    const token = authenticator.getCredentials()!.accessToken;
    // eslint-disable-next-line require-yield -- it fails before any message
    const quoting: ClientMiddleware = async function* quoting(_call, options) {
      throw new Error(`refusing ${options.metadata?.get('authorization') ?? ''}`);
    };
    await eachCallKind(authenticator, (outcome, kind) => assertFailed(outcome, kind, Status.INTERNAL, 'refusing [REDACTED]', token), quoting);
  });
});

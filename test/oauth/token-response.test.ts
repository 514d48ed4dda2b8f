import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fetch as undiciFetch, type RequestInit } from 'undici';
import { ClientCredentialsAuthenticator, createAuthInterceptor, StaticClientConfigStore, type OAuthFetch } from '../../src/index.js';
import { TOKEN_FAILURE_DETAILS_PREFIX } from '../../src/grpc-js/status.js';
import { rejectsWithAuthError } from '../support/assertions.js';
import { observeUnary } from '../support/calls.js';
import { EchoClient } from '../support/echo-service.js';
import { startFlyteServer, type TestFlyte } from '../support/flyte-server.js';
import { startHostileTokenEndpoint, tokenBody, type HostileTokenEndpoint } from '../support/hostile-token-endpoint.js';
import { BASIC_CLIENT } from '../support/identity-provider.js';
import { watchProcessErrors } from '../support/process-errors.js';

const MIB = 1024 * 1024;
const FAST_RETRY = { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 10 };

describe('token endpoint answers are bounded and classified', () => {
  let flyte: TestFlyte;
  let hostile: HostileTokenEndpoint;
  before(async () => {
    flyte = await startFlyteServer();
    hostile = await startHostileTokenEndpoint();
  });
  after(async () => {
    await hostile.close();
    await flyte.close();
  });

  const create = (fetch?: OAuthFetch): ClientCredentialsAuthenticator =>
    new ClientCredentialsAuthenticator({
      endpoint: flyte.address,
      ...BASIC_CLIENT,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: hostile.url }),
      retry: FAST_RETRY,
      ...(fetch ? { fetch } : {}),
    });

  async function callStatus(authenticator: ClientCredentialsAuthenticator): Promise<grpc.StatusObject> {
    const client = new EchoClient(flyte.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(authenticator)] });
    const watch = watchProcessErrors();
    try {
      return (await observeUnary(client, { text: 'x' }, new grpc.Metadata(), { deadline: Date.now() + 20_000 })).status;
    } finally {
      client.close();
      assert.deepEqual(watch.stop(), [], 'nothing escaped the interceptor');
    }
  }

  test('a 100 MB body (declared) is refused before it is read: one request, aborted, not retried', async (t) => {
    hostile.answer({ kind: 'huge', bytes: 100 * MIB });
    const before = { requests: hostile.requests, written: hostile.written.length };
    await rejectsWithAuthError(create().refreshCredentials(), {
      code: 'ERR_BAD_TOKEN_RESPONSE',
      message: `token endpoint ${hostile.url} answered HTTP 200 with a body larger than 1048576 bytes (1 MiB), which is no OAuth answer; the request was aborted`,
    });
    assert.equal(hostile.requests - before.requests, 1);
    await hostile.waitForWritten(before.written + 1);
    const written = hostile.written.at(-1)!;
    assert.equal(written.abortedByClient, true, 'the client went away');
    t.diagnostic(`the server wrote ${written.bytes} bytes before the client hung up`);
    assert.ok(written.bytes < 16 * MIB, `the server could write only ${written.bytes} bytes before the client hung up`);
  });

  test('an endless body is cut off after 1 MiB: the client stops reading and hangs up', async (t) => {
    hostile.answer({ kind: 'endless' });
    const before = { requests: hostile.requests, written: hostile.written.length };
    const heapBefore = process.memoryUsage().heapUsed;
    await rejectsWithAuthError(create().refreshCredentials(), {
      code: 'ERR_BAD_TOKEN_RESPONSE',
      message: /answered HTTP 200 with a body larger than 1048576 bytes \(1 MiB\)/,
    });
    assert.equal(hostile.requests - before.requests, 1);
    await hostile.waitForWritten(before.written + 1);
    const written = hostile.written.at(-1)!;
    assert.equal(written.abortedByClient, true);
    t.diagnostic(`the server wrote ${written.bytes} bytes before the client hung up`);
    assert.ok(written.bytes < 16 * MIB, `${written.bytes} bytes written`);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * MIB, 'nothing like the whole stream was kept');
  });

  test('a body that breaks off halfway is transient: retried, then the call ends UNAVAILABLE', async () => {
    hostile.answer({ kind: 'reset-mid-body', body: JSON.stringify(tokenBody('broken-off-token')) });
    const before = hostile.requests;
    await rejectsWithAuthError(create().refreshCredentials(), {
      code: 'ERR_IDP_UNREACHABLE',
      message: new RegExp(`^token endpoint ${hostile.url} answered HTTP 200, but its body broke off after \\d+ bytes: `),
    });
    assert.equal(hostile.requests - before, 3, 'the first attempt and 2 retries');
    const status = await callStatus(create());
    assert.equal(status.code, grpc.status.UNAVAILABLE);
    assert.match(status.details, new RegExp(`^${TOKEN_FAILURE_DETAILS_PREFIX}token endpoint .* its body broke off`));
  });

  test('a body that stalls halfway is transient: the request times out, is retried, then UNAVAILABLE', async () => {
    hostile.answer({ kind: 'stall-mid-body', body: JSON.stringify(tokenBody('stalled-token')) });
    // Your own fetch with a short timeout: the body is read under the request's signal.
    const impatient: OAuthFetch = (url, init) =>
      undiciFetch(url, { ...init, signal: AbortSignal.any([init.signal!, AbortSignal.timeout(300)]) } as RequestInit);
    const before = hostile.requests;
    await rejectsWithAuthError(create(impatient).refreshCredentials(), {
      code: 'ERR_IDP_UNREACHABLE',
      message: /answered HTTP 200, but its body broke off after \d+ bytes: it stopped arriving before the request timed out$/,
    });
    assert.equal(hostile.requests - before, 3);
    assert.equal((await callStatus(create(impatient))).code, grpc.status.UNAVAILABLE);
  });

  for (const [name, expiresIn, shown] of [
    ['negative', -5, '-5'],
    ['zero', 0, '0'],
    ['a negative string', '-60', '-60'],
    ['a word', 'soon', 'a string that is not a number'],
    ['null', null, 'null'],
    ['a boolean', true, 'a boolean'],
  ] as const) {
    test(`expires_in ${name}: ERR_BAD_TOKEN_RESPONSE naming the field, not retried, UNAUTHENTICATED`, async () => {
      hostile.answer({ kind: 'json', body: tokenBody('token-with-bad-expiry', { expires_in: expiresIn }) });
      const before = hostile.requests;
      await rejectsWithAuthError(create().refreshCredentials(), {
        code: 'ERR_BAD_TOKEN_RESPONSE',
        message: `the token endpoint ${hostile.url} answered with expires_in ${shown}; expires_in must be a positive number of seconds`,
      });
      assert.equal(hostile.requests - before, 1);
      assert.equal((await callStatus(create())).code, grpc.status.UNAUTHENTICATED);
    });
  }

  test('expires_in as a string of digits (Azure AD v1) is read as seconds', async () => {
    hostile.answer({ kind: 'json', body: tokenBody('string-expiry-token', { expires_in: '3600' }) });
    const started = Date.now();
    const credentials = await create().refreshCredentials();
    assert.ok(credentials.expiresAt! - started >= 3_599_000 && credentials.expiresAt! - started <= 3_601_000);
  });

  for (const [type, message] of [
    [
      'DPoP',
      'issued a DPoP-bound token (token_type "DPoP"); flyte-grpc-auth sends tokens as Bearer only, so the identity provider must issue Bearer tokens to this client',
    ],
    [
      'dpop',
      'issued a DPoP-bound token (token_type "DPoP"); flyte-grpc-auth sends tokens as Bearer only, so the identity provider must issue Bearer tokens to this client',
    ],
    ['mac', 'issued a token of type "mac" (token_type); flyte-grpc-auth sends tokens as Bearer only'],
    // openid-client lower-cases the type before it refuses it.
    ['N_A', 'issued a token of type "n_a" (token_type); flyte-grpc-auth sends tokens as Bearer only'],
  ] as const) {
    test(`token_type ${type} is refused naming the type`, async () => {
      hostile.answer({ kind: 'json', body: tokenBody('typed-token', { token_type: type }) });
      const before = hostile.requests;
      await rejectsWithAuthError(create().refreshCredentials(), {
        code: 'ERR_BAD_TOKEN_RESPONSE',
        message: `the token endpoint ${hostile.url} ${message}`,
      });
      assert.equal(hostile.requests - before, 1);
      const status = await callStatus(create());
      assert.equal(status.code, grpc.status.UNAUTHENTICATED);
      assert.equal(flyte.server.calls.length, 0, 'a non-Bearer token never goes out as Bearer');
    });
  }

  test('token_type bearer in any case is accepted', async () => {
    for (const type of ['bearer', 'BEARER', 'Bearer']) {
      hostile.answer({ kind: 'json', body: tokenBody(`ok-${type}`, { token_type: type }) });
      assert.equal((await create().refreshCredentials()).accessToken, `ok-${type}`);
    }
  });
});

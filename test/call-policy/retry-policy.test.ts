import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AuthRetryPolicy,
  ReplayBuffer,
  StatusCode,
  checkAuthHeader,
  isUnauthenticated,
  type AuthMetadata,
  type TokenSource,
} from '../../src/call-policy/index.js';

/** A token source that counts compare-and-refresh requests. */
function countingSource(): TokenSource & { rejected: Array<AuthMetadata | undefined> } {
  const rejected: Array<AuthMetadata | undefined> = [];
  return {
    rejected,
    currentAuthMetadata: () => undefined,
    fetchGrpcCallAuthMetadata: async () => undefined,
    refreshAfterRejection: async (header) => {
      rejected.push(header);
      throw new Error('refresh failed');
    },
  };
}

const settings = { isAuthRejection: isUnauthenticated, maxMessages: 3, maxBytes: 100 };
const header: AuthMetadata = ['authorization', 'Bearer t1'];
const rejection = { code: StatusCode.UNAUTHENTICATED, details: 'no' };

describe('ReplayBuffer', () => {
  test('bounded by messages and by bytes; over either, released for good', () => {
    const byCount = new ReplayBuffer<string>({ maxMessages: 2, maxBytes: 1_000 });
    assert.equal(byCount.add('a', 1), true);
    assert.equal(byCount.add('b'), true);
    assert.equal(byCount.add('c', 1), false);
    assert.equal(byCount.replayable, false);
    assert.equal(byCount.add('d', 1), false);
    assert.deepEqual(byCount.take(), []);

    const byBytes = new ReplayBuffer<string>({ maxMessages: 10, maxBytes: 100 });
    assert.equal(byBytes.add('a', 60), true);
    assert.equal(byBytes.add('b', 40), true, 'exactly at the bound');
    assert.equal(byBytes.bytes, 100);
    assert.equal(byBytes.add('c', 1), false);
    assert.equal(byBytes.bytes, 0);
  });

  test('take() hands the messages over once', () => {
    const buffer = new ReplayBuffer<string>({ maxMessages: 5, maxBytes: 100 });
    buffer.add('a', 1);
    buffer.add('b', 1);
    assert.deepEqual(buffer.take(), ['a', 'b']);
    assert.equal(buffer.replayable, false);
    assert.deepEqual(buffer.take(), []);
  });
});

describe('AuthRetryPolicy', () => {
  test('one retry on a rejection; the second rejection is final and refreshes in the background (error dropped)', async () => {
    const source = countingSource();
    const policy = new AuthRetryPolicy<string>({ requestStream: false, responseStream: false }, settings);
    assert.equal(policy.onStatus(rejection, source, header), 'retry');
    assert.equal(policy.onStatus(rejection, source, header), 'final');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(source.rejected, [header]);
  });

  test('request streams commit on response headers; unary and server streams hold them while a retry is possible', () => {
    const source = countingSource();
    const bidi = new AuthRetryPolicy<string>({ requestStream: true, responseStream: true }, settings);
    assert.equal(bidi.onHeaders(), true);
    assert.equal(bidi.committed, true);
    assert.equal(bidi.onStatus(rejection, source, header), 'final');

    const serverStream = new AuthRetryPolicy<string>({ requestStream: false, responseStream: true }, settings);
    assert.equal(serverStream.onHeaders(), false);
    assert.equal(serverStream.onStatus(rejection, source, header), 'retry');
    assert.equal(serverStream.onHeaders(), true, "the retry's headers: no retry left, nothing to hold them for");
  });

  test('a response message commits; over the replay bound no retry; cancel is never retried; other codes are final', () => {
    const source = countingSource();
    const shape = { requestStream: true, responseStream: false };
    const messaged = new AuthRetryPolicy<string>(shape, settings);
    messaged.onMessage();
    assert.equal(messaged.onStatus(rejection, source, header), 'final');

    const overflowing = new AuthRetryPolicy<string>(shape, settings);
    assert.equal(overflowing.record('big', 101), false);
    assert.equal(overflowing.onStatus(rejection, source, header), 'final');

    const cancelled = new AuthRetryPolicy<string>(shape, settings);
    cancelled.cancel();
    assert.equal(cancelled.onStatus(rejection, source, header), 'final');

    const denied = new AuthRetryPolicy<string>(shape, settings);
    assert.equal(denied.onStatus({ code: StatusCode.PERMISSION_DENIED, details: 'no' }, source, header), 'final');
    assert.equal(source.rejected.length, 2, 'the committed and the overflowing call refreshed; cancel and PERMISSION_DENIED did not');
  });

  test('a throwing predicate means "not a rejection"', () => {
    const policy = new AuthRetryPolicy<string>({ requestStream: false, responseStream: false }, {
      ...settings,
      isAuthRejection: () => {
        throw new Error('bug');
      },
    });
    assert.equal(policy.onStatus(rejection, countingSource(), header), 'final');
  });
});

describe('checkAuthHeader', () => {
  test('legal keys and visible-ASCII tokens pass; keys are case-insensitive', () => {
    assert.equal(checkAuthHeader(['authorization', 'Bearer abc.DEF-_~+/=']), undefined);
    assert.equal(checkAuthHeader(['Flyte-Authorization', 'Bearer x']), undefined);
  });

  for (const [value, reason] of [
    ['Bearer a\u0000b', 'a control character'],
    ['Bearer a\tb', 'a control character'],
    ['Bearer a\u007fb', 'a control character'],
    ['Bearer a b', 'a space'],
    ['Bearer ', 'empty'],
    ['', 'empty'],
    ['Bearer é', 'a non-ASCII character'],
  ] as const) {
    test(`${JSON.stringify(value)}: UNAUTHENTICATED, ${reason}, the token not quoted`, () => {
      const status = checkAuthHeader(['authorization', value]);
      assert.equal(status?.code, StatusCode.UNAUTHENTICATED);
      assert.match(status.details, new RegExp(`^failed to obtain access token: the access token cannot be sent in the "authorization" header: it (contains |is )${reason}$`));
    });
  }

  for (const key of ['a b', 'x-bin', 'X-BIN', ':authority', 'ключ']) {
    test(`key ${JSON.stringify(key)}: INTERNAL naming it`, () => {
      assert.equal(checkAuthHeader([key, 'Bearer x'])?.code, StatusCode.INTERNAL);
    });
  }
});

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Authenticator } from '../../src/index.js';
import { refreshSettled } from './custom-authenticators.js';
import type { TestIdentityProvider } from './identity-provider.js';

/** The four call types of `test.echo.Echo`. */
export type CallKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';
export const CALL_KINDS: readonly CallKind[] = ['unary', 'serverStream', 'clientStream', 'bidi'];
const REQUEST_STREAMING: ReadonlySet<CallKind> = new Set(['clientStream', 'bidi']);

/** What the application saw of one call, whatever the transport. */
export interface CallOutcome {
  /** The replies' `text`, in order. */
  texts: string[];
  /** The error the call ended with: its gRPC code and details (`rawMessage` for Connect). */
  error?: { code: number; message: string } | undefined;
  /** `x-attempt` of every response header block the application saw, in order. */
  headers: string[];
}

export interface CallOptions {
  /** The call's deadline, from now. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The application's own metadata carries a stale `authorization: Bearer stale-token`. */
  staleHeader?: boolean;
}

/** Calls `test.echo.Echo` through one adapter. */
export interface AdapterClient {
  /** The authenticator behind this client. */
  authenticator: Authenticator;
  /** `unary` and `serverStream` send `texts[0]`; the streams send every text. */
  call(kind: CallKind, texts: readonly string[], options?: CallOptions): Promise<CallOutcome>;
}

export interface AdapterClientOptions {
  /** A new authenticator without a token (else the harness's warm one). */
  cold?: boolean;
  maxBufferedMessages?: number;
  maxBufferedBytes?: number;
  /** `throws`: an `isAuthRejection` that throws; `permission-denied-too`: one that also counts PERMISSION_DENIED. */
  rejection?: 'throws' | 'permission-denied-too';
}

/** The Echo server's controls the table needs (the grpc-js and the Connect test servers both have them). */
export interface EchoServerControl {
  calls: Array<{ headerValues: string[]; outcome: string; requests: string[] }>;
  rejectNext(count: number, options?: { afterHeaders?: boolean }): void;
  failNext(code: number, count?: number, options?: { afterHeaders?: boolean }): void;
  planNext(...plans: Array<{ kind: 'reject-after'; messages: number }>): void;
}

/** One adapter with its servers, as the table drives it. */
export interface AdapterHarness {
  idp: TestIdentityProvider;
  server: EchoServerControl;
  /** The warm client-credentials authenticator behind `client()`. */
  authenticator: Authenticator;
  client(options?: AdapterClientOptions): AdapterClient;
  /** How the adapter reports a call whose deadline, or whose signal, ended the wait for a token. */
  expected: { deadline: { code: number; message: string }; cancelled: { code: number; message: string } };
  /**
   * The error a call of `kind` sees when the server rejects it with `code` and `message` before any response header.
   * Default: the same. (Over the Connect protocol a stream's early error is an HTTP status, and its body is not read.)
   */
  earlyError?(kind: CallKind, code: number, message: string): { code: number; message: string };
  close(): Promise<void>;
}

const UNAUTHENTICATED = 16;
const PERMISSION_DENIED = 7;
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** The replies a successful call of `kind` with `texts` gets from the Echo server. */
export function expectedTexts(kind: CallKind, texts: readonly string[]): string[] {
  switch (kind) {
    case 'unary':
      return [`ok:${texts[0]}`];
    case 'serverStream':
      return [0, 1, 2].map((i) => `${texts[0]}-${i}`);
    case 'clientStream':
      return [texts.join(',')];
    case 'bidi':
      return texts.map((text) => `echo:${text}`);
  }
}

/** Waits (bounded) until `idp` has seen `count` token requests, then checks it saw exactly that many. */
export async function settleTokenRequests(idp: TestIdentityProvider, count: number): Promise<void> {
  for (let i = 0; i < 500 && idp.tokenRequestCount < count; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  // One more turn for a request that should not come.
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(idp.tokenRequestCount, count);
}

const bearer = (authenticator: Authenticator): string => `Bearer ${authenticator.getCredentials()!.accessToken}`;

/**
 * The behaviour every adapter must show, as one table of tests: the header on each call type; rejected once → one
 * refresh and one retry (streams replayed); rejected twice → the second status; a committed call is never retried;
 * other codes are never retried; concurrent cold calls → one token request; deadline and abort while the token
 * endpoint hangs; the replay bounds; the rejection predicate.
 */
export function authBehaviourTable(start: () => Promise<AdapterHarness>, adapter: { byteBound: boolean } = { byteBound: true }): void {
  let harness: AdapterHarness | undefined;
  const h = (): AdapterHarness => harness!;
  const early = (kind: CallKind, code: number, message = 'rejected by test') => h().earlyError?.(kind, code, message) ?? { code, message };
  before(async () => {
    harness = await start();
  });
  after(() => harness?.close());
  beforeEach(async () => {
    await h().authenticator.refreshCredentials();
    h().server.calls.length = 0;
    h().idp.tokenRequestLog.length = 0;
  });

  for (const kind of CALL_KINDS) {
    const texts = ['a', 'b'];
    describe(kind, () => {
      test('carries the header; a stale one in the caller metadata is replaced', async () => {
        const client = h().client();
        const outcome = await client.call(kind, texts, { staleHeader: true });
        assert.deepEqual(outcome, { texts: expectedTexts(kind, texts), error: undefined, headers: ['1'] });
        assert.deepEqual(
          h().server.calls.map((call) => call.headerValues),
          [[bearer(client.authenticator)]],
        );
        assert.equal(h().idp.tokenRequestCount, 0);
      });

      test('rejected once (trailers-only): one refresh, one retry with the new token, requests replayed in order', async () => {
        const client = h().client();
        const before = bearer(client.authenticator);
        const streamed = ['m0', 'm1', 'm2', 'm3', 'm4'];
        const sent = REQUEST_STREAMING.has(kind) ? streamed : texts;
        h().server.rejectNext(1);
        const outcome = await client.call(kind, sent);
        assert.deepEqual(outcome, { texts: expectedTexts(kind, sent), error: undefined, headers: ['2'] });
        assert.equal(h().idp.tokenRequestCount, 1);
        const after = bearer(client.authenticator);
        assert.notEqual(after, before);
        assert.deepEqual(h().server.calls.map((call) => call.headerValues), [[before], [after]]);
        if (REQUEST_STREAMING.has(kind)) assert.deepEqual(h().server.calls[1]!.requests, streamed);
      });

      test('rejected twice: the second status reaches the caller after exactly two attempts', async () => {
        h().server.rejectNext(2);
        const outcome = await h().client().call(kind, texts);
        assert.deepEqual(outcome.error, early(kind, UNAUTHENTICATED));
        assert.deepEqual(outcome.texts, []);
        assert.equal(h().server.calls.length, 2);
        // One refresh before the retry, one compare-and-refresh in the background after the second rejection.
        await settleTokenRequests(h().idp, 2);
      });

      if (REQUEST_STREAMING.has(kind)) {
        test('rejected after the response headers: committed, not retried; the token is refreshed in the background', async () => {
          const client = h().client();
          const before = bearer(client.authenticator);
          h().server.rejectNext(1, { afterHeaders: true });
          const outcome = await client.call(kind, texts);
          assert.deepEqual(outcome, { texts: [], error: { code: UNAUTHENTICATED, message: 'rejected by test' }, headers: ['1'] });
          assert.equal(h().server.calls.length, 1);
          await settleTokenRequests(h().idp, 1);
          // The token request reached the identity provider; its answer may still be on the way back.
          await refreshSettled(client.authenticator);
          assert.notEqual(bearer(client.authenticator), before);
        });
      } else {
        test('rejected after the response headers: retried, and the rejected attempt’s headers never reach the app', async () => {
          h().server.rejectNext(1, { afterHeaders: true });
          const outcome = await h().client().call(kind, texts);
          assert.deepEqual(outcome, { texts: expectedTexts(kind, texts), error: undefined, headers: ['2'] });
          assert.equal(h().server.calls.length, 2);
          assert.equal(h().idp.tokenRequestCount, 1);
        });
      }

      if (kind === 'serverStream' || kind === 'bidi') {
        test('a rejection after a response message is not retried; the token is refreshed in the background', async () => {
          h().server.planNext({ kind: 'reject-after', messages: 1 });
          const outcome = await h().client().call(kind, texts);
          assert.deepEqual(outcome, {
            texts: expectedTexts(kind, texts).slice(0, 1),
            error: { code: UNAUTHENTICATED, message: 'rejected after 1 message(s)' },
            headers: ['1'],
          });
          assert.equal(h().server.calls.length, 1);
          await settleTokenRequests(h().idp, 1);
        });
      }

      for (const [name, code] of [
        ['PERMISSION_DENIED', PERMISSION_DENIED],
        ['UNAVAILABLE', UNAVAILABLE],
      ] as const) {
        test(`${name} is never retried and refreshes nothing`, async () => {
          h().server.failNext(code);
          const outcome = await h().client().call(kind, texts);
          assert.deepEqual(outcome.error, early(kind, code));
          assert.equal(h().server.calls.length, 1);
          await settleTokenRequests(h().idp, 0);
        });
      }

      test('the deadline ends the wait for a token while the token endpoint hangs; no call reaches the server', async () => {
        h().idp.failTokenRequests({ kind: 'hang' }, 1);
        const outcome = await h().client({ cold: true }).call(kind, texts, { timeoutMs: 200 });
        assert.deepEqual(outcome, { texts: [], error: h().expected.deadline, headers: [] });
        assert.equal(h().server.calls.length, 0);
        // On a busy machine the token request may reach the identity provider after the deadline passed.
        await settleTokenRequests(h().idp, 1);
      });

      test('aborting the call ends the wait for a token; no call reaches the server', async () => {
        h().idp.failTokenRequests({ kind: 'hang' }, 1);
        const controller = new AbortController();
        const outcome = h().client({ cold: true }).call(kind, texts, { signal: controller.signal });
        // Abort once the token request is known to hang at the identity provider.
        for (let i = 0; i < 500 && h().idp.tokenRequestCount === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
        controller.abort();
        assert.deepEqual(await outcome, { texts: [], error: h().expected.cancelled, headers: [] });
        assert.equal(h().server.calls.length, 0);
        assert.equal(h().idp.tokenRequestCount, 1);
      });
    });
  }

  test('concurrent calls of every type on a cold authenticator make one token request', async () => {
    const client = h().client({ cold: true });
    const kinds = Array.from({ length: 20 }, (_, index) => CALL_KINDS[index % 4]!);
    const outcomes = await Promise.all(kinds.map((kind, index) => client.call(kind, [`c${index}`])));
    assert.deepEqual(
      outcomes.map((outcome) => outcome.texts),
      kinds.map((kind, index) => expectedTexts(kind, [`c${index}`])),
    );
    assert.equal(h().idp.tokenRequestCount, 1);
    assert.equal(h().server.calls.length, 20);
  });

  for (const kind of ['clientStream', 'bidi'] as const) {
    test(`${kind}: a stream longer than maxBufferedMessages is not retried; within the bound it is`, async () => {
      const client = h().client({ maxBufferedMessages: 2 });
      h().server.rejectNext(1);
      const over = await client.call(kind, ['a', 'b', 'c']);
      assert.deepEqual(over.error, early(kind, UNAUTHENTICATED));
      assert.equal(h().server.calls.length, 1);
      await settleTokenRequests(h().idp, 1);
      h().server.rejectNext(1);
      const within = await client.call(kind, ['a', 'b']);
      assert.deepEqual(within.texts, expectedTexts(kind, ['a', 'b']));
      assert.equal(h().server.calls.length, 3);
    });

    // nice-grpc hands a middleware no serializer: that adapter has no byte bound.
    if (!adapter.byteBound) continue;
    test(`${kind}: a stream over maxBufferedBytes is not retried`, async () => {
      // Each request is 6 bytes on the wire (tag, length, 4 characters): 3 of them are over 16, 2 are not.
      const client = h().client({ maxBufferedBytes: 16 });
      h().server.rejectNext(1);
      const over = await client.call(kind, ['aaaa', 'bbbb', 'cccc']);
      assert.deepEqual(over.error, early(kind, UNAUTHENTICATED));
      assert.equal(h().server.calls.length, 1);
      await settleTokenRequests(h().idp, 1);
      h().server.rejectNext(1);
      assert.deepEqual((await client.call(kind, ['aaaa', 'bbbb'])).texts, expectedTexts(kind, ['aaaa', 'bbbb']));
      assert.equal(h().server.calls.length, 3);
    });
  }

  test('a throwing isAuthRejection: the status reaches the caller as is, no retry, no refresh', async () => {
    h().server.rejectNext(1);
    const outcome = await h().client({ rejection: 'throws' }).call('unary', ['x']);
    assert.deepEqual(outcome.error, { code: UNAUTHENTICATED, message: 'rejected by test' });
    assert.equal(h().server.calls.length, 1);
    await settleTokenRequests(h().idp, 0);
  });

  test('an isAuthRejection that also counts PERMISSION_DENIED: refreshed and retried', async () => {
    h().server.failNext(PERMISSION_DENIED);
    const outcome = await h().client({ rejection: 'permission-denied-too' }).call('unary', ['x']);
    assert.deepEqual(outcome.texts, ['ok:x']);
    assert.equal(h().server.calls.length, 2);
    assert.equal(h().idp.tokenRequestCount, 1);
  });

  test('the deadline also bounds the refresh before the retry', async () => {
    // An authenticator of its own: its refresh hangs for good.
    const client = h().client({ cold: true });
    assert.deepEqual((await client.call('unary', ['warm'])).texts, ['ok:warm']);
    h().server.calls.length = 0;
    h().idp.tokenRequestLog.length = 0;
    h().idp.failTokenRequests({ kind: 'hang' }, 1);
    h().server.rejectNext(1);
    const outcome = await client.call('unary', ['late'], { timeoutMs: 300 });
    assert.deepEqual(outcome, { texts: [], error: h().expected.deadline, headers: [] });
    assert.equal(h().server.calls.length, 1);
    await settleTokenRequests(h().idp, 1);
  });
}

export { DEADLINE_EXCEEDED, UNAUTHENTICATED };

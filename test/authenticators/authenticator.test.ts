import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Authenticator, AuthenticationError, type AuthenticatorOptions, type Credentials } from '../../src/index.js';
import { watchProcessErrors } from '../support/process-errors.js';
import { unary } from '../support/echo-service.js';
import { startEnvironment } from '../support/environment.js';

/** A flow whose tokens and failures the test scripts; it counts how often it runs. */
class ScriptedAuthenticator extends Authenticator {
  runs = 0;
  readonly #next: Array<() => Promise<Credentials>>;

  constructor(next: Array<() => Promise<Credentials>>, options: Omit<AuthenticatorOptions, 'endpoint'> = {}) {
    super({ endpoint: 'test', ...options });
    this.#next = next;
  }

  protected override async obtainCredentials(): Promise<Credentials> {
    this.runs += 1;
    const step = this.#next.shift();
    if (!step) throw new AuthenticationError('no more scripted tokens');
    return step();
  }
}

const token = (accessToken: string, lifetimeMs?: number) => async (): Promise<Credentials> =>
  lifetimeMs === undefined ? { accessToken, forEndpoint: 'test' } : { accessToken, forEndpoint: 'test', expiresAt: Date.now() + lifetimeMs };

/** A token obtain that finishes when the test says so. */
function pending(): { step: () => Promise<Credentials>; resolve: (credentials: Credentials) => void; reject: (error: Error) => void } {
  let resolve!: (credentials: Credentials) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<Credentials>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { step: () => promise, resolve, reject };
}

const header = (value: string) => ['authorization', `Bearer ${value}`];

describe('Authenticator: stale-while-revalidate', () => {
  test('inside the refresh window the refresh runs in the background: calls go on with the valid token at once', async () => {
    const slow = pending();
    // Cached credentials (nothing requested yet), due for refresh at once, 60 s from expiry (margin: 3 s).
    const auth = new ScriptedAuthenticator([slow.step], {
      credentials: { accessToken: 't0', forEndpoint: 'test', expiresAt: Date.now() + 60_000 },
      refreshWindowMs: 60_000,
    });
    assert.deepEqual(auth.currentAuthMetadata(), header('t0'), 'the fast path still answers, and starts the refresh');
    for (let i = 0; i < 10; i += 1) assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t0'));
    assert.equal(auth.runs, 1, 'one background refresh for every call');
    slow.resolve({ accessToken: 't1', forEndpoint: 'test', expiresAt: Date.now() + 600_000 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(auth.currentAuthMetadata(), header('t1'));
  });

  test('inside the expiry margin calls wait for the new token (joining the refresh in flight)', async () => {
    const slow = pending();
    const auth = new ScriptedAuthenticator([slow.step], {
      credentials: { accessToken: 't0', forEndpoint: 'test', expiresAt: Date.now() + 2_000 },
      expiryMarginMs: 5_000,
    });
    assert.equal(auth.currentAuthMetadata(), undefined, 'no fast path inside the margin');
    const waiting = Array.from({ length: 5 }, () => auth.fetchGrpcCallAuthMetadata());
    let settled = false;
    void Promise.all(waiting).then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the calls wait');
    slow.resolve({ accessToken: 't1', forEndpoint: 'test', expiresAt: Date.now() + 600_000 });
    assert.deepEqual(await Promise.all(waiting), Array(5).fill(header('t1')));
    assert.equal(auth.runs, 1);
  });

  test('a failing background refresh never reaches a call, is retried at most every 5 s, and leaves no unhandled rejection', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const failing = () => Promise.reject(new AuthenticationError('idp down', { code: 'ERR_IDP_UNREACHABLE' }));
    const auth = new ScriptedAuthenticator([failing, failing, token('t1', 600_000)], {
      credentials: { accessToken: 't0', forEndpoint: 'test', expiresAt: 1_000_000 + 60_000 },
      refreshWindowMs: 60_000,
    });
    const watch = watchProcessErrors();
    for (let i = 0; i < 20; i += 1) assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t0'));
    assert.equal(auth.runs, 1);
    t.mock.timers.tick(4_999);
    for (let i = 0; i < 20; i += 1) assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t0'));
    assert.equal(auth.runs, 1, 'no second attempt within 5 s');
    t.mock.timers.tick(1);
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t0'));
    assert.equal(auth.runs, 2, 'the second attempt, 5 s later, in the background too');
    await new Promise((resolve) => setImmediate(resolve));
    // Inside the margin (the last 3 s) the call waits for the third attempt, which succeeds.
    t.mock.timers.tick(52_500);
    assert.equal(auth.currentAuthMetadata(), undefined);
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t1'));
    assert.equal(auth.runs, 3);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(watch.stop(), []);
  });

  test('inside the margin, a failed refresh keeps the still-valid token for the next 5 s', async () => {
    const auth = new ScriptedAuthenticator([async () => Promise.reject(new AuthenticationError('idp down', { code: 'ERR_IDP_UNREACHABLE' }))], {
      credentials: { accessToken: 't0', forEndpoint: 'test', expiresAt: Date.now() + 2_000 },
      expiryMarginMs: 5_000,
    });
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t0'));
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t0'));
    assert.equal(auth.runs, 1, 'one failed attempt, then a pause');
  });

  test('the defaults: background refresh in the last min(60 s, 10%), waiting in the last min(10 s, 5%)', (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 0 });
    const auth = new ScriptedAuthenticator([pending().step], { credentials: { accessToken: 't0', forEndpoint: 'test', expiresAt: 1_000 } });
    t.mock.timers.tick(899);
    assert.deepEqual(auth.currentAuthMetadata(), header('t0'));
    assert.equal(auth.runs, 0, 'not yet due');
    t.mock.timers.tick(1);
    assert.deepEqual(auth.currentAuthMetadata(), header('t0'), 'due: refreshed in the background');
    assert.equal(auth.runs, 1);
    t.mock.timers.tick(49);
    assert.deepEqual(auth.currentAuthMetadata(), header('t0'));
    t.mock.timers.tick(1);
    assert.equal(auth.currentAuthMetadata(), undefined, 'inside the last 5%: calls wait');
    const long = new ScriptedAuthenticator([], { credentials: { accessToken: 'long', forEndpoint: 'test', expiresAt: 3_600_000 } });
    t.mock.timers.tick(3_600_000 - 60_000 - 50);
    assert.ok(long.currentAuthMetadata());
    assert.equal(long.runs, 1, 'refresh 60 s before expiry');
    t.mock.timers.tick(60_000 - 10_000);
    assert.equal(long.currentAuthMetadata(), undefined, 'wait 10 s before expiry');
  });

  test('refreshWindowMs and expiryMarginMs must be durations', () => {
    assert.throws(() => new ScriptedAuthenticator([], { expiryMarginMs: -1 }), { code: 'ERR_CONFIG', message: 'expiryMarginMs must be a number of milliseconds >= 0, got -1' });
    assert.throws(() => new ScriptedAuthenticator([], { refreshWindowMs: Number.NaN }), { code: 'ERR_CONFIG' });
  });

  test('an expired token is never used: the failure reaches the caller', async () => {
    const cached = new ScriptedAuthenticator([], { credentials: { accessToken: 'old', forEndpoint: 'test', expiresAt: Date.now() - 1 } });
    assert.equal(cached.currentAuthMetadata(), undefined);
    await assert.rejects(cached.fetchGrpcCallAuthMetadata(), { message: 'no more scripted tokens' });
  });

  test('a token that arrives expired by this clock is used for 5 s (the server judges it), not re-requested per call', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    // expiresAt in the past on arrival: an `exp` from a clock behind ours.
    const auth = new ScriptedAuthenticator([token('t1', -60_000), token('t2', -60_000)]);
    for (let i = 0; i < 20; i += 1) assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t1'));
    t.mock.timers.tick(4_999);
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t1'));
    assert.equal(auth.runs, 1);
    t.mock.timers.tick(1);
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t2'), 'after 5 s it counts as expired');
    assert.equal(auth.runs, 2);
    // A rejection is the one reason to ask again at once.
    await assert.rejects(auth.refreshAfterRejection(header('t2') as unknown as readonly [string, string]), { message: 'no more scripted tokens' });
    assert.equal(auth.runs, 3);
  });

  test('a plausible short lifetime is honoured: a 2 s token is renewed after 1 s at the earliest, not after 5 s', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const auth = new ScriptedAuthenticator([token('t1', 2_000), token('t2', 2_000)], { refreshWindowMs: 2_000 });
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), header('t1'));
    t.mock.timers.tick(999);
    assert.deepEqual(auth.currentAuthMetadata(), header('t1'));
    assert.equal(auth.runs, 1, 'due, but within half its lifetime of the last request');
    t.mock.timers.tick(1);
    assert.deepEqual(auth.currentAuthMetadata(), header('t1'));
    assert.equal(auth.runs, 2, 'the background refresh starts');
  });
});

describe('Authenticator', () => {
  test('concurrent refreshes share one run, and a failed run is not memoised', async () => {
    const auth = new ScriptedAuthenticator([async () => Promise.reject(new AuthenticationError('first fails')), token('t2')]);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => auth.refreshCredentials()));
    assert.ok(results.every((result) => result.status === 'rejected'));
    assert.equal(auth.runs, 1);
    assert.equal((await auth.refreshCredentials()).accessToken, 't2');
    assert.equal(auth.runs, 2);
  });

  test('a hanging identity provider during the background refresh delays no call while the token is valid', async () => {
    // 4 s tokens, due for renewal from 0.1 s on; the renewal may start 2 s after the last request.
    const env = await startEnvironment({ idp: { accessTokenTtlSeconds: 4 }, refreshWindowMs: 3_900 });
    const watch = watchProcessErrors();
    try {
      await env.authenticator.refreshCredentials();
      const token = env.authenticator.getCredentials()!.accessToken;
      await new Promise((resolve) => setTimeout(resolve, 2_050));
      env.idp.failTokenRequests({ kind: 'hang' }, 10);
      const client = env.newClient();
      // Each call has 1 s: one that waited for the hanging refresh would end DEADLINE_EXCEEDED.
      for (let i = 0; i < 10; i += 1) await unary(client, { text: String(i) }, new grpc.Metadata(), { deadline: Date.now() + 1_000 });
      assert.ok(env.server.calls.every((call) => call.outcome === 'ok' && call.headerValues[0] === `Bearer ${token}`));
      assert.equal(env.server.calls.length, 10);
      assert.equal(env.idp.tokenRequestCount, 2, 'the first token, and one background refresh (hanging)');
    } finally {
      await env.close();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(watch.stop(), []);
    }
  });

  test('a steady stream of calls never presents an expired token to the server', async () => {
    // 3 s tokens, renewed in the background from 1.5 s on: the JWT `exp` has whole seconds, so the server may see a
    // token expire up to 1 s before `expires_in` says (real tokens live minutes, and the margins cover that second).
    const env = await startEnvironment({ idp: { accessTokenTtlSeconds: 3 }, refreshWindowMs: 1_500 });
    try {
      const client = env.newClient();
      const until = Date.now() + 3_600;
      let calls = 0;
      while (Date.now() < until) {
        await unary(client, { text: String(calls) });
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.ok(env.server.calls.every((call) => call.outcome === 'ok'), 'no call was rejected');
      assert.equal(env.server.calls.length, calls, 'no call needed a retry');
      // JWT `exp` has whole seconds, so lifetimes vary a little: count the tokens the server actually saw.
      const distinctTokens = new Set(env.server.calls.map((call) => call.headerValues[0])).size;
      assert.ok(distinctTokens >= 2, 'the 3 s token was replaced during the run');
      assert.equal(env.idp.tokenRequestCount, distinctTokens, 'one token request per token used, none wasted');
    } finally {
      await env.close();
    }
  });
});

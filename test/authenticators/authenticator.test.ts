import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Authenticator, AuthenticationError, type Credentials } from '../../src/index.js';
import { unary } from '../support/echo-service.js';
import { startEnvironment } from '../support/environment.js';

/** A flow whose tokens and failures the test scripts; it counts how often it runs. */
class ScriptedAuthenticator extends Authenticator {
  runs = 0;
  readonly #next: Array<() => Promise<Credentials>>;

  constructor(next: Array<() => Promise<Credentials>>, refreshWindowMs?: number) {
    super({ endpoint: 'test', refreshWindowMs });
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

describe('Authenticator', () => {
  test('a token inside its refresh window is refreshed before use', async () => {
    const auth = new ScriptedAuthenticator([token('t1', 60_000), token('t2', 60_000)], 59_990);
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), ['authorization', 'Bearer t1']);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(auth.currentAuthMetadata(), undefined, 'due for refresh: no fast path');
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), ['authorization', 'Bearer t2']);
    assert.equal(auth.runs, 2);
  });

  test('the default window is the smaller of 60 s and 10% of the lifetime', async () => {
    const short = new ScriptedAuthenticator([token('short', 1_000)]);
    await short.fetchGrpcCallAuthMetadata();
    assert.ok(short.currentAuthMetadata(), 'a 1 s token is used as is at first');
    await new Promise((resolve) => setTimeout(resolve, 920));
    assert.equal(short.currentAuthMetadata(), undefined, 'inside the last 100 ms it is due');
    const long = new ScriptedAuthenticator([token('long', 3_600_000)]);
    await long.fetchGrpcCallAuthMetadata();
    assert.ok(long.currentAuthMetadata());
  });

  test('a failed proactive refresh keeps the still-valid token and waits before trying again', async () => {
    const auth = new ScriptedAuthenticator(
      [token('t1', 60_000), async () => Promise.reject(new AuthenticationError('idp down', { code: 'ERR_IDP_UNREACHABLE' }))],
      59_990,
    );
    await auth.fetchGrpcCallAuthMetadata();
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), ['authorization', 'Bearer t1']);
    assert.deepEqual(await auth.fetchGrpcCallAuthMetadata(), ['authorization', 'Bearer t1']);
    assert.equal(auth.runs, 2, 'one failed attempt, then a pause');
  });

  test('an expired token is never used: the failure reaches the caller', async () => {
    const auth = new ScriptedAuthenticator([token('t1', 10)]);
    await auth.fetchGrpcCallAuthMetadata();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await assert.rejects(auth.fetchGrpcCallAuthMetadata(), { message: 'no more scripted tokens' });
  });

  test('concurrent refreshes share one run, and a failed run is not memoised', async () => {
    const auth = new ScriptedAuthenticator([async () => Promise.reject(new AuthenticationError('first fails')), token('t2')]);
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => auth.refreshCredentials()));
    assert.ok(results.every((result) => result.status === 'rejected'));
    assert.equal(auth.runs, 1);
    assert.equal((await auth.refreshCredentials()).accessToken, 't2');
    assert.equal(auth.runs, 2);
  });

  test('a steady stream of calls never presents an expired token to the server', async () => {
    const env = await startEnvironment({ idp: { accessTokenTtlSeconds: 2 } });
    try {
      const client = env.newClient();
      const until = Date.now() + 2_600;
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
      assert.ok(distinctTokens >= 2, 'the 2 s token was replaced during the run');
      assert.equal(env.idp.tokenRequestCount, distinctTokens, 'one token request per token used, none wasted');
    } finally {
      await env.close();
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { DeviceCodeAuthenticator, PKCEAuthenticator, tokenStoreKey, type OAuthFetch } from '../../src/index.js';
import { RedisTokenStore } from '../../src/redis.js';
import { unary } from '../support/echo-service.js';
import { createHeadlessBrowser, type HeadlessBrowser } from '../support/headless-browser.js';
import { type InteractiveEnvironment, withInteractiveEnvironment } from '../support/interactive-environment.js';
import { jsonResponse, passthrough } from '../support/oauth-fetch.js';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.js';
import { refreshAtIdentityProvider } from '../support/refresh-token.js';

const FAST_RETRY = { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 };
const THIRTY_DAYS_MS = 30 * 86_400_000;

let redis: TestRedisServer;
let raw: Redis;
before(async () => {
  redis = await startRedisServer();
  raw = await redis.raw();
});
after(() => redis.close());

/** A store on a connection of its own, as another process (on another host) would have. */
function store(t: TestContext): RedisTokenStore {
  const tokenStore = new RedisTokenStore({ redis: redis.url, warn: (message) => assert.fail(`unexpected warning: ${message}`) });
  t.after(() => tokenStore.close());
  return tokenStore;
}

function pkce(env: InteractiveEnvironment, browser: HeadlessBrowser, tokenStore: RedisTokenStore): PKCEAuthenticator {
  return new PKCEAuthenticator({ endpoint: env.server.address, cfgStore: env.cfgStore, retry: FAST_RETRY, timeoutMs: 10_000, openBrowser: browser.open, tokenStore });
}

test('PKCE on Redis: one login serves a second process; the refresh token outlives the access token; concurrent renewals make one refresh', async (t) => {
  await withInteractiveEnvironment(async (env) => {
    env.idp.setAccessTokenTtl(2);
    const browser = createHeadlessBrowser();
    const first = pkce(env, browser, store(t));
    const second = pkce(env, browser, store(t));
    const [clientA, clientB] = [env.newClient(first), env.newClient(second)];
    assert.equal((await unary(clientA, { text: 'login' })).subject, 'alice');
    assert.equal((await unary(clientB, { text: 'cached' })).subject, 'alice');
    assert.equal(browser.opened.length, 1, 'the second process used the first one\'s login');

    const redisKey = `flyte-grpc-auth:{${tokenStoreKey(env.server.address, 'cli', 'pkce')}}`;
    // The value keeps the refresh token after the 2 s access token has expired.
    assert.ok((await raw.pttl(redisKey)) > THIRTY_DAYS_MS - 60_000);
    await sleep(Math.max(0, first.getCredentials()!.expiresAt! - Date.now()) + 50);
    const reader = store(t);
    const key = tokenStoreKey(env.server.address, 'cli', 'pkce');
    const beforeRenewal = await reader.get(key);
    assert.ok(beforeRenewal?.refreshToken, 'still there after the access token expired');

    // Both renew at once: under the Redis lock, one refresh_token grant; the other adopts the rotated tokens.
    const [a, b] = await Promise.all([unary(clientA, { text: 'a' }), unary(clientB, { text: 'b' })]);
    assert.deepEqual([a.subject, b.subject], ['alice', 'alice']);
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 1, refresh_token: 1 });
    const stored = await reader.get(key);
    assert.notEqual(stored?.refreshToken, beforeRenewal.refreshToken, 'rotated');
    assert.equal(first.getCredentials()?.refreshToken, stored?.refreshToken);
    assert.equal(second.getCredentials()?.refreshToken, stored?.refreshToken);
    // The stored refresh token is the live one: the grant was not revoked by a reuse.
    assert.equal((await refreshAtIdentityProvider(env.idp.tokenEndpoint, stored?.refreshToken ?? '')).status, 200);
    assert.equal(browser.opened.length, 1);
  });
});

test('device flow on Redis: one device login serves a second process', async (t) => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    // oidc-provider asks clients to poll every 5 s: poll right away instead.
    const fetch: OAuthFetch = async (url, init) => {
      const response = await passthrough(url, init);
      if (String(url) !== env.idp.deviceAuthorizationEndpoint) return response;
      return jsonResponse({ ...((await response.json()) as object), interval: 0.05 }, response.status);
    };
    let prompts = 0;
    const device = (tokenStore: RedisTokenStore) =>
      new DeviceCodeAuthenticator({
        endpoint: env.server.address,
        cfgStore: env.cfgStore,
        retry: FAST_RETRY,
        fetch,
        tokenStore,
        onPrompt: async (prompt) => {
          prompts += 1;
          await browser.navigate(prompt.verificationUriComplete!);
        },
      });
    assert.equal((await unary(env.newClient(device(store(t))), { text: 'login' })).subject, 'alice');
    assert.equal((await unary(env.newClient(device(store(t))), { text: 'cached' })).subject, 'alice');
    assert.equal(prompts, 1);
    assert.equal(env.idp.tokenRequests.get('urn:ietf:params:oauth:grant-type:device_code'), 1);
  });
});

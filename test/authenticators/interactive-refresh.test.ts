import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createAuthInterceptor,
  MemoryTokenStore,
  PKCEAuthenticator,
  tokenStoreKey,
  type Credentials,
  type PKCEAuthenticatorOptions,
  type TokenStore,
} from '../../src/index.js';
import { EchoClient, echoService, unary, type EchoReply, type EchoRequest } from '../support/echo-service.js';
import { createHeadlessBrowser, type HeadlessBrowser } from '../support/headless-browser.js';
import { formBody, jsonResponse, passthrough } from '../support/oauth-fetch.js';
import { type InteractiveEnvironment, withInteractiveEnvironment } from '../support/interactive-environment.js';

const FAST_RETRY = { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 };
// With 4 s tokens: calls stop using a token 50 ms after it arrives and wait for its proactive renewal, which may start
// once half its lifetime has passed since the last token request (the minimum interval between requests).
const TOKEN_TTL_SECONDS = 4;
const RENEW_SOON = { expiryMarginMs: 3_950 };
const pastMinInterval = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2_050));

function pkce(env: InteractiveEnvironment, browser: HeadlessBrowser, options: Partial<PKCEAuthenticatorOptions> = {}): PKCEAuthenticator {
  return new PKCEAuthenticator({
    endpoint: env.server.address,
    cfgStore: env.cfgStore,
    retry: FAST_RETRY,
    timeoutMs: 10_000,
    openBrowser: browser.open,
    ...options,
  });
}

function grants(env: InteractiveEnvironment): Record<string, number> {
  return Object.fromEntries(env.idp.tokenRequests);
}

/** A store that records every operation (keys only, never tokens). */
class RecordingStore implements TokenStore {
  readonly inner = new MemoryTokenStore();
  readonly log: string[] = [];

  async get(key: string): Promise<Credentials | undefined> {
    this.log.push(`get ${key}`);
    return this.inner.get(key);
  }

  async set(key: string, credentials: Credentials): Promise<void> {
    this.log.push(`set ${key}`);
    await this.inner.set(key, credentials);
  }

  async delete(key: string): Promise<void> {
    this.log.push(`delete ${key}`);
    await this.inner.delete(key);
  }
}

async function revokeRefreshToken(env: InteractiveEnvironment, value: string): Promise<void> {
  const token = await env.idp.provider.RefreshToken.find(value);
  assert.ok(token, 'the refresh token exists at the identity provider');
  await token.destroy();
}

test('lazy: a server without auth never sees a login (no browser, no token request)', async () => {
  const server = new grpc.Server();
  server.addService(echoService, {
    Unary: (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>) =>
      callback(null, { text: `open:${call.request.text ?? ''}`, subject: '' }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    for (const clientId of [undefined, 'cli']) {
      env.cfgStore.calls = 0;
      const auth = pkce(env, browser, { endpoint: `127.0.0.1:${port}`, clientId });
      const client = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(auth)] });
      try {
        for (const text of ['a', 'b', 'c']) assert.equal((await unary(client, { text })).text, `open:${text}`);
      } finally {
        client.close();
      }
      // The cache key needs the client id: without a local one, the config is read once to look for cached credentials.
      assert.equal(env.cfgStore.calls, clientId ? 0 : 1);
    }
    assert.equal(browser.opened.length, 0);
    assert.equal(env.idp.tokenRequestCount, 0);
  });
  server.forceShutdown();
});

test("cached credentials are used without a login, under the server's header key from the first call", async () => {
  await withInteractiveEnvironment(
    async (env) => {
      const browser = createHeadlessBrowser();
      const tokenStore = new MemoryTokenStore();
      await unary(env.newClient(pkce(env, browser, { tokenStore })), { text: 'login' });
      assert.equal(browser.opened.length, 1);
      const before = env.server.calls.length;

      // Another process (a new authenticator) with the same store.
      const client = env.newClient(pkce(env, browser, { tokenStore }));
      assert.equal((await unary(client, { text: 'cached' })).subject, 'alice');
      const first = env.server.calls[before]!;
      assert.equal(first.outcome, 'ok', 'the very first call carries the cached token');
      assert.equal(first.metadata.get('flyte-authorization').length, 1);
      assert.equal(first.metadata.get('authorization').length, 0);
      assert.equal(env.server.calls.length, before + 1);
      assert.equal(browser.opened.length, 1);
      assert.deepEqual(grants(env), { authorization_code: 1 });
    },
    { headerKey: 'flyte-authorization' },
  );
});

test('proactive refresh before expiry uses the refresh token; a rotated refresh token is stored', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const tokenStore = new MemoryTokenStore();
    const key = tokenStoreKey(env.server.address, 'cli', 'pkce');
    env.idp.setAccessTokenTtl(TOKEN_TTL_SECONDS);
    const auth = pkce(env, browser, { tokenStore, ...RENEW_SOON });
    const client = env.newClient(auth);
    await unary(client, { text: 'login' });
    const first = (await tokenStore.get(key))!;
    assert.ok(first.refreshToken);
    assert.ok(first.expiresAt! - Date.now() <= 4_000);
    await unary(client, { text: 'too-soon' });
    assert.deepEqual(grants(env), { authorization_code: 1 }, 'no second request within the minimum interval');

    await pastMinInterval();
    assert.equal((await unary(client, { text: 'renewed' })).subject, 'alice');
    const second = (await tokenStore.get(key))!;
    assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 1 });
    assert.equal(env.idp.tokenRequestLog[1]!.body.get('refresh_token'), first.refreshToken);
    assert.notEqual(second.refreshToken, first.refreshToken, 'rotation: the new refresh token is stored');
    assert.notEqual(second.accessToken, first.accessToken);
    assert.ok(auth.getCredentials()?.accessToken === second.accessToken);

    await pastMinInterval();
    await unary(client, { text: 'again' });
    assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 2 });
    assert.equal(env.idp.tokenRequestLog[2]!.body.get('refresh_token'), second.refreshToken);
    assert.equal(browser.opened.length, 1);
    assert.ok(env.server.calls.slice(1).every((call) => call.outcome === 'ok'));
  });
});

test('a refused refresh token (invalid_grant) leads to exactly one new login and deletes only that entry', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const tokenStore = new RecordingStore();
    const key = tokenStoreKey(env.server.address, 'cli', 'pkce');
    const otherKey = tokenStoreKey('other.example.com:443', 'cli', 'pkce');
    await tokenStore.inner.set(otherKey, { accessToken: 'other', refreshToken: 'other-refresh', forEndpoint: 'other.example.com:443' });
    await unary(env.newClient(pkce(env, browser, { tokenStore })), { text: 'login' });

    // The cached access token has expired and the refresh token is no longer known to the identity provider.
    const cached = (await tokenStore.inner.get(key))!;
    await tokenStore.inner.set(key, { ...cached, refreshToken: 'tampered-refresh-token', expiresAt: Date.now() - 1_000 });
    tokenStore.log.length = 0;
    const client = env.newClient(pkce(env, browser, { tokenStore }));
    assert.equal((await unary(client, { text: 'after' })).subject, 'alice');

    assert.deepEqual(grants(env), { authorization_code: 2, refresh_token: 1 });
    assert.equal(browser.opened.length, 2, 'exactly one new login');
    assert.deepEqual(tokenStore.log, [`get ${key}`, `get ${key}`, `delete ${key}`, `set ${key}`]);
    assert.ok((await tokenStore.inner.get(otherKey))?.refreshToken === 'other-refresh', 'the other entry is untouched');
    const renewed = (await tokenStore.inner.get(key))!;
    assert.ok(renewed.refreshToken && renewed.refreshToken !== 'tampered-refresh-token');
  });
});

test('a refused proactive refresh opens no browser while the token works; the login starts once the server refuses the token', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    env.idp.setAccessTokenTtl(TOKEN_TTL_SECONDS);
    const auth = pkce(env, browser, RENEW_SOON);
    const client = env.newClient(auth);
    await unary(client, { text: 'login' });
    await revokeRefreshToken(env, auth.getCredentials()!.refreshToken!);
    await pastMinInterval();

    assert.equal((await unary(client, { text: 'still-valid' })).subject, 'alice');
    assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 1 });
    assert.equal(browser.opened.length, 1, 'no browser for a token that still works');
    // The failed renewal is not repeated on every call.
    await unary(client, { text: 'again' });
    assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 1 });

    env.server.rejectNext(1);
    assert.equal((await unary(client, { text: 'rejected-then-login' })).subject, 'alice');
    assert.equal(browser.opened.length, 2);
    assert.deepEqual(grants(env), { authorization_code: 2, refresh_token: 1 }, 'the refused refresh token is not tried again');
  });
});

test('a refresh response without a refresh token keeps the old one (identity providers that do not rotate)', async () => {
  await withInteractiveEnvironment(
    async (env) => {
      const browser = createHeadlessBrowser();
      const tokenStore = new MemoryTokenStore();
      const key = tokenStoreKey(env.server.address, 'cli', 'pkce');
      let stripped = 0;
      const auth = pkce(env, browser, {
        tokenStore,
        fetch: async (url, init) => {
          const response = await passthrough(url, init);
          if (formBody(init).get('grant_type') === 'refresh_token' && response.ok) {
            const { refresh_token: _dropped, ...body } = (await response.json()) as Record<string, unknown>;
            stripped += 1;
            return jsonResponse(body);
          }
          return response;
        },
      });
      const client = env.newClient(auth);
      await unary(client, { text: 'login' });
      const original = (await tokenStore.get(key))!.refreshToken;
      assert.ok(original);

      // Each rejection renews the token with the refresh token.
      env.server.rejectNext(1);
      await unary(client, { text: 'refresh-1' });
      env.server.rejectNext(1);
      await unary(client, { text: 'refresh-2' });
      assert.equal(stripped, 2);
      assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 2 });
      assert.deepEqual(
        env.idp.tokenRequestLog.slice(1).map((entry) => entry.body.get('refresh_token')),
        [original, original],
      );
      assert.equal((await tokenStore.get(key))!.refreshToken, original);
      assert.equal(auth.getCredentials()?.refreshToken, original);
      assert.equal(browser.opened.length, 1);
    },
    { idp: { configure: (configuration) => void (configuration.rotateRefreshToken = false) } },
  );
});

test('a transient refresh failure (503, connection reset) never deletes the cached credentials', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const tokenStore = new RecordingStore();
    const key = tokenStoreKey(env.server.address, 'cli', 'pkce');
    env.idp.setAccessTokenTtl(TOKEN_TTL_SECONDS);
    const client = env.newClient(pkce(env, browser, { tokenStore, ...RENEW_SOON }));
    await unary(client, { text: 'login' });
    const cached = (await tokenStore.inner.get(key))!;
    env.idp.setAccessTokenTtl(300);

    // Proactive renewal fails (first attempt + one retry): the call goes on with the still-valid token.
    await pastMinInterval();
    env.idp.failTokenRequests({ kind: 'status', status: 503 }, 2);
    assert.equal((await unary(client, { text: 'proactive' })).subject, 'alice');
    assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 2 });
    assert.deepEqual(await tokenStore.inner.get(key), cached);

    // An expired token whose renewal fails: the call fails UNAVAILABLE, the refresh token stays for the next call.
    await tokenStore.inner.set(key, { ...cached, expiresAt: Date.now() - 1_000 });
    tokenStore.log.length = 0;
    const second = env.newClient(pkce(env, browser, { tokenStore }));
    env.idp.failTokenRequests({ kind: 'status', status: 503 }, 1);
    env.idp.failTokenRequests({ kind: 'reset' }, 1);
    await assert.rejects(unary(second, { text: 'expired' }), (error: { code: number; details: string }) => {
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.match(error.details, /token endpoint .* is unreachable/);
      return true;
    });
    assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 4 });
    assert.ok(!tokenStore.log.some((entry) => entry.startsWith('delete')));
    assert.equal((await tokenStore.inner.get(key))!.refreshToken, cached.refreshToken);

    assert.equal((await unary(second, { text: 'recovered' })).subject, 'alice');
    assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 5 });
    assert.equal(browser.opened.length, 1, 'no login: the refresh token survived');
  });
});

test('a store with withLock: the renewal runs inside the lock and adopts what another process stored meanwhile', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const locks: string[] = [];
    const inner = new MemoryTokenStore();
    const tokenStore = {
      get: (key: string) => inner.get(key),
      set: (key: string, credentials: Credentials) => inner.set(key, credentials),
      delete: (key: string) => inner.delete(key),
      async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
        locks.push(key);
        return fn();
      },
    };
    const key = tokenStoreKey(env.server.address, 'cli', 'pkce');
    const first = pkce(env, browser, { tokenStore });
    const second = pkce(env, browser, { tokenStore });
    const [clientA, clientB] = [env.newClient(first), env.newClient(second)];
    await unary(clientA, { text: 'login' });
    assert.equal((await unary(clientB, { text: 'b-cached' })).subject, 'alice');
    assert.ok(second.getCredentials()?.accessToken === first.getCredentials()?.accessToken, 'B loaded what A stored');

    env.server.rejectNext(1);
    await unary(clientA, { text: 'a-renews' });
    assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 1 });
    // B's token is refused: its renewal finds A's rotated credentials in the store and adopts them, instead of
    // refreshing with the rotated-away refresh token (which would make the provider revoke the whole grant).
    env.server.rejectNext(1);
    assert.equal((await unary(clientB, { text: 'b-adopts' })).subject, 'alice');
    assert.deepEqual(grants(env), { authorization_code: 1, refresh_token: 1 });
    assert.ok(second.getCredentials()?.refreshToken === (await inner.get(key))?.refreshToken, 'B holds the stored refresh token');
    assert.deepEqual(locks, [key, key, key]);
    assert.equal(browser.opened.length, 1);
  });
});

test('a failing config store on first use: the call goes out without a token and the rejection recovers', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const tokenStore = new MemoryTokenStore();
    await unary(env.newClient(pkce(env, browser, { tokenStore })), { text: 'login' });
    const before = env.server.calls.length;

    env.cfgStore.failures = 1;
    env.cfgStore.calls = 0;
    const client = env.newClient(pkce(env, browser, { tokenStore }));
    assert.equal((await unary(client, { text: 'recovers' })).subject, 'alice');
    assert.deepEqual(env.server.calls.slice(before).map((call) => call.headerValues.length), [0, 1]);
    assert.equal(env.cfgStore.calls, 2);
    assert.equal(browser.opened.length, 1);
    assert.deepEqual(grants(env), { authorization_code: 1 });
  });
});

test('logout deletes the cached credentials; the next rejected call logs in again', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const tokenStore = new MemoryTokenStore();
    const key = tokenStoreKey(env.server.address, 'cli', 'pkce');
    const auth = pkce(env, browser, { tokenStore });
    const client = env.newClient(auth);
    await unary(client, { text: 'login' });
    await auth.logout();
    assert.equal(await tokenStore.get(key), undefined);
    assert.equal(auth.getCredentials(), undefined);
    await unary(client, { text: 'login-again' });
    assert.equal(browser.opened.length, 2);
    assert.ok(await tokenStore.get(key));
  });
});

test('a broken token store costs nothing but one warning: the login and the calls work', async () => {
  await withInteractiveEnvironment(async (env) => {
    const browser = createHeadlessBrowser();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const broken: TokenStore = {
        get: async () => Promise.reject(new Error('disk on fire')),
        set: async () => Promise.reject(new Error('disk on fire')),
        delete: async () => Promise.reject(new Error('disk on fire')),
      };
      const client = env.newClient(pkce(env, browser, { tokenStore: broken }));
      assert.equal((await unary(client, { text: 'a' })).subject, 'alice');
      assert.equal((await unary(client, { text: 'b' })).subject, 'alice');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, [`flyte-grpc-auth: cannot read cached credentials for ${env.server.address}: disk on fire`]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

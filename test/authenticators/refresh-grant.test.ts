import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Configuration } from 'oidc-provider';
import { DeviceCodeAuthenticator, FileTokenStore, MemoryTokenStore, PKCEAuthenticator, tokenStoreKey } from '../../src/index.js';
import { unary } from '../support/echo-service.js';
import { createHeadlessBrowser } from '../support/headless-browser.js';
import { API_AUDIENCE, PUBLIC_CLIENT } from '../support/identity-provider.js';
import { withInteractiveEnvironment } from '../support/interactive-environment.js';
import { mintRefreshToken } from '../support/refresh-token.js';
import { createTempDir } from '../support/temp-dir.js';

// Consent that grants fewer scopes than requested: `openid offline` granted, `all` refused (as an identity provider
// whose user or policy drops a scope). Such a provider refuses a refresh that repeats `all`.
const narrowingConsent: NonNullable<Configuration['loadExistingGrant']> = async (ctx) => {
  const accountId = ctx.oidc.session?.accountId;
  const client = ctx.oidc.client;
  if (!accountId || !client) return undefined;
  const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId });
  grant.addOIDCScope('openid offline');
  grant.rejectOIDCScope('all');
  grant.addResourceScope(API_AUDIENCE, 'api:read api:write');
  await grant.save();
  return grant;
};
const NARROWING = { idp: { configure: (configuration: Configuration) => void (configuration.loadExistingGrant = narrowingConsent) } };

test('refresh after a consent that granted fewer scopes: grant_type, refresh_token and client_id only, and it succeeds', async () => {
  await withInteractiveEnvironment(async (env) => {
    env.cfgStore.config.scopes = ['openid', 'offline', 'all'];
    env.cfgStore.config.audience = 'https://flyte.example.com/api';
    const browser = createHeadlessBrowser();
    const tokenStore = new MemoryTokenStore();
    const auth = new PKCEAuthenticator({ endpoint: env.server.address, cfgStore: env.cfgStore, openBrowser: browser.open, tokenStore, timeoutMs: 10_000 });
    const client = env.newClient(auth);
    assert.equal((await unary(client, { text: 'login' })).subject, 'alice');
    const login = env.idp.tokenRequestLog[0]!;
    assert.equal(login.body.get('grant_type'), 'authorization_code');

    const first = auth.getCredentials()!;
    const refreshed = await auth.refreshCredentials();
    assert.notEqual(refreshed.accessToken, first.accessToken);
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 1, refresh_token: 1 });
    const refresh = env.idp.tokenRequestLog[1]!;
    assert.deepEqual([...refresh.body.keys()].sort(), ['client_id', 'grant_type', 'refresh_token']);
    assert.equal(refresh.body.get('client_id'), PUBLIC_CLIENT.clientId);
    assert.equal(refresh.body.get('refresh_token'), first.refreshToken);
    assert.equal(refresh.headers.authorization, undefined, 'a public client sends no client authentication');

    // And again with the rotated refresh token: the login is not needed any more.
    await auth.refreshCredentials();
    assert.deepEqual(Object.fromEntries(env.idp.tokenRequests), { authorization_code: 1, refresh_token: 2 });
    assert.equal(browser.opened.length, 1);
    assert.equal((await unary(client, { text: 'after' })).subject, 'alice');
  }, NARROWING);
});

test('device flow with scopes and an audience configured: the refresh sends neither; one token request', async () => {
  const dir = createTempDir('fga-refresh-');
  try {
    await withInteractiveEnvironment(async (env) => {
      const path = `${dir.dir}/tokens.json`;
      const key = tokenStoreKey(env.server.address, PUBLIC_CLIENT.clientId, 'deviceflow');
      // A login granted `openid offline_access` and the API scopes; the configuration asks for more.
      const refreshToken = await mintRefreshToken(env.idp);
      await new FileTokenStore({ path }).set(key, { accessToken: 'expired', forEndpoint: env.server.address, expiresAt: Date.now() - 1_000, refreshToken });
      const device = new DeviceCodeAuthenticator({
        endpoint: env.server.address,
        cfgStore: env.cfgStore,
        scopes: ['openid', 'offline', 'all'],
        audience: 'https://flyte.example.com/api',
        tokenStore: new FileTokenStore({ path }),
        onPrompt: () => {
          throw new Error('no login expected');
        },
      });
      const client = env.newClient(device);
      assert.equal((await unary(client, { text: 'cached' })).subject, 'user-1');
      assert.equal(env.idp.tokenRequestCount, 1);
      const [refresh] = env.idp.tokenRequestLog;
      assert.deepEqual(Object.fromEntries(refresh!.body), { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: PUBLIC_CLIENT.clientId });
      assert.notEqual((await new FileTokenStore({ path }).get(key))?.refreshToken, refreshToken, 'the rotated refresh token is stored');
    });
  } finally {
    dir.cleanup();
  }
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  AuthenticationError,
  ClientCredentialsAuthenticator,
  CommandAuthenticator,
  DeviceCodeAuthenticator,
  FileTokenStore,
  getAuthenticator,
  KeyringTokenStore,
  loadPlatformConfig,
  MemoryTokenStore,
  PKCEAuthenticator,
  StaticClientConfigStore,
  tokenStoreKey,
  type KeyringModule,
} from '../../src/index.js';
import { createScriptDir, type ScriptDir } from '../support/commands.js';
import { startHostileTokenEndpoint, type HostileAnswer, type HostileTokenEndpoint } from '../support/hostile-token-endpoint.js';
import { BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { freePort } from '../support/interactive-environment.js';
import { createTempDir, type TempDir } from '../support/temp-dir.js';

/**
 * Every failure below produces an error; each error's whole object graph (message, `cause` chain, hidden properties)
 * must be free of every token and secret the test servers issued or the test configured.
 */
const secrets = new Set<string>();
const collected: Array<{ scenario: string; error: unknown }> = [];

/** A unique secret value, remembered for the final search. */
function secret(kind: string): string {
  const value = `${kind}-${randomBytes(9).toString('base64url')}`;
  secrets.add(value);
  return value;
}

/** A token answer whose tokens are all remembered as secrets. */
function issued(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { access_token: secret('AT'), refresh_token: secret('RT'), token_type: 'Bearer', expires_in: 300, ...extra };
}

/** Runs `action`, which must fail with an `AuthenticationError`; records it and returns it. */
async function failure(scenario: string, action: () => unknown): Promise<AuthenticationError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof AuthenticationError, `${scenario}: expected an AuthenticationError, got ${String(caught)}`);
  collected.push({ scenario, error: caught });
  return caught;
}

const FAST_RETRY = { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 };

describe('no token or secret anywhere in an error', () => {
  let idp: TestIdentityProvider;
  let hostile: HostileTokenEndpoint;
  let dir: TempDir;
  let scripts: ScriptDir;
  before(async () => {
    idp = await startIdentityProvider();
    hostile = await startHostileTokenEndpoint();
    dir = createTempDir('fga-secrets-');
    scripts = createScriptDir();
    secrets.add(BASIC_CLIENT.clientSecret);
  });
  after(async () => {
    await hostile.close();
    await idp.close();
    dir.cleanup();
    scripts.cleanup();
  });

  const clientCredentials = (tokenEndpoint = hostile.url, clientSecret: string = BASIC_CLIENT.clientSecret): ClientCredentialsAuthenticator =>
    new ClientCredentialsAuthenticator({
      endpoint: 'flyte.example.test:443',
      clientId: BASIC_CLIENT.clientId,
      clientSecret,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint }),
      retry: FAST_RETRY,
    });

  const answering = (answer: HostileAnswer): void => hostile.answer(answer);

  test('token endpoint answers that fail validation keep the real reason, not the issued tokens', async () => {
    answering({ kind: 'json', body: issued({ expires_in: -5 }) });
    const negative = await failure('negative expires_in', () => clientCredentials().refreshCredentials());
    assert.match(negative.message, /answered with expires_in -5; expires_in must be a positive number of seconds$/);

    answering({ kind: 'json', body: issued({ expires_in: 0 }) });
    await failure('zero expires_in', () => clientCredentials().refreshCredentials());
    answering({ kind: 'json', body: issued({ expires_in: 'later' }) });
    await failure('word expires_in', () => clientCredentials().refreshCredentials());
    answering({ kind: 'json', body: issued({ token_type: 'DPoP' }) });
    assert.match((await failure('DPoP', () => clientCredentials().refreshCredentials())).message, /DPoP-bound token/);
    answering({ kind: 'json', body: issued({ token_type: 'mac' }) });
    assert.match((await failure('mac', () => clientCredentials().refreshCredentials())).message, /type "mac"/);
    answering({ kind: 'json', body: issued({ refresh_token: 42 }) });
    assert.match((await failure('refresh_token not a string', () => clientCredentials().refreshCredentials())).message, /"refresh_token" property must be a string/);
    answering({ kind: 'json', body: issued({ access_token: `with space ${secret('AT')}` }) });
    await failure('access token with a space', () => clientCredentials().refreshCredentials());
    answering({ kind: 'json', body: issued({ scope: ['not', 'a', 'string'] }) });
    await failure('scope not a string', () => clientCredentials().refreshCredentials());
    answering({ kind: 'raw', body: `{"access_token":"${secret('AT')}","token_type":"Bearer" oops}` });
    await failure('invalid JSON around a token', () => clientCredentials().refreshCredentials());
    answering({ kind: 'raw', body: `{"access_token":"${secret('AT')}"`, contentType: 'text/plain' });
    await failure('not JSON at all', () => clientCredentials().refreshCredentials());
    answering({ kind: 'raw', status: 500, body: `<html>${secret('AT')}</html>`, contentType: 'text/html' });
    await failure('a 500 page quoting a token', () => clientCredentials().refreshCredentials());
    answering({ kind: 'reset-mid-body', body: JSON.stringify(issued()) });
    await failure('a body that breaks off', () => clientCredentials().refreshCredentials());
    answering({ kind: 'huge', bytes: 2 * 1024 * 1024 });
    await failure('a body over 1 MiB', () => clientCredentials().refreshCredentials());
  });

  test('client secrets: invalid_client from a real identity provider, an unreachable proxy with a password', async () => {
    const wrong = secret('client-secret');
    const refused = await failure('invalid_client', () => clientCredentials(idp.tokenEndpoint, wrong).refreshCredentials());
    assert.equal(refused.oauthError, 'invalid_client');
    const proxyPassword = secret('proxy-password');
    const port = await freePort();
    await failure('unreachable proxy with credentials', () =>
      new ClientCredentialsAuthenticator({
        endpoint: 'flyte.example.test:443',
        ...BASIC_CLIENT,
        cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint }),
        httpProxyUrl: `http://user:${proxyPassword}@127.0.0.1:${port}`,
        retry: { retries: 0 },
      }).refreshCredentials(),
    );
  });

  test('a refresh that fails validation: neither the refresh token sent nor the tokens received', async () => {
    const store = new MemoryTokenStore();
    const key = tokenStoreKey('flyte.example.test:443', 'cli', 'pkce');
    await store.set(key, { accessToken: secret('AT'), refreshToken: secret('RT'), expiresAt: Date.now() - 1_000, forEndpoint: 'flyte.example.test:443' });
    answering({ kind: 'json', body: issued({ expires_in: -1 }) });
    const pkce = new PKCEAuthenticator({
      endpoint: 'flyte.example.test:443',
      clientId: 'cli',
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: hostile.url, authorizationEndpoint: `${hostile.url}/auth` }),
      tokenStore: store,
      retry: FAST_RETRY,
      openBrowser: () => {
        throw new Error('no browser here');
      },
    });
    // The cached token has expired: the first call refreshes it with the cached refresh token.
    const error = await failure('refresh with negative expires_in', () => pkce.fetchGrpcCallAuthMetadata());
    assert.match(error.message, /expires_in -1/);
  });

  test('PKCE: a code exchange whose answer fails validation (bad ID token, bad access token)', async () => {
    for (const [scenario, body] of [
      ['PKCE with an ID token that is no JWT', issued({ id_token: `${secret('IT')}.${secret('IT')}.x` })],
      ['PKCE with an access token with a line break', issued({ access_token: `${secret('AT')}\nx` })],
    ] as const) {
      answering({ kind: 'json', body });
      const port = await freePort();
      const pkce = new PKCEAuthenticator({
        endpoint: 'flyte.example.test:443',
        clientId: 'cli',
        cfgStore: new StaticClientConfigStore({
          tokenEndpoint: hostile.url,
          authorizationEndpoint: `${hostile.url}/auth`,
          redirectUri: `http://127.0.0.1:${port}/callback`,
        }),
        tokenStore: new MemoryTokenStore(),
        timeoutMs: 10_000,
        // The identity provider approves at once: straight back to the callback with a code and the state.
        openBrowser: async (url) => {
          const authorization = new URL(url);
          const callback = new URL(authorization.searchParams.get('redirect_uri')!);
          callback.searchParams.set('code', secret('code'));
          callback.searchParams.set('state', authorization.searchParams.get('state')!);
          await fetch(callback);
        },
      });
      await failure(scenario, () => pkce.refreshCredentials());
    }
  });

  test('device code: the device code and the tokens of a refused answer stay out', async () => {
    const deviceCode = secret('DC');
    const deviceAnswer: HostileAnswer = {
      kind: 'json',
      body: { device_code: deviceCode, user_code: 'ABCD-EFGH', verification_uri: 'http://127.0.0.1/device', expires_in: 60, interval: 0.01 },
    };
    // Each login: the device authorization request first, then one poll.
    const login = (poll: HostileAnswer): void => {
      const start = hostile.requests;
      hostile.answer((index) => (index === start ? deviceAnswer : poll));
    };
    const device = new DeviceCodeAuthenticator({
      endpoint: 'flyte.example.test:443',
      clientId: 'cli',
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: hostile.url, deviceAuthorizationEndpoint: hostile.url }),
      tokenStore: new MemoryTokenStore(),
      retry: FAST_RETRY,
      onPrompt: () => undefined,
    });
    login({ kind: 'json', body: issued({ expires_in: -30 }) });
    assert.match((await failure('device grant with negative expires_in', () => device.refreshCredentials())).message, /expires_in -30/);
    login({ kind: 'json', status: 400, body: { error: 'access_denied' } });
    assert.equal((await failure('device login denied', () => device.refreshCredentials())).oauthError, 'access_denied');
  });

  test('bad tokens from the token file, the keychain and a command', async () => {
    const key = tokenStoreKey('flyte.example.test:443', 'cli', 'pkce');
    const path = dir.write('tokens.json', JSON.stringify({ version: 1, credentials: { [key]: { accessToken: `${secret('AT')} x`, refreshToken: secret('RT'), forEndpoint: 'x' } } }));
    await failure('token file', () => new FileTokenStore({ path }).get(key));

    const item = JSON.stringify({ accessToken: `${secret('AT')}\u00e9`, refreshToken: secret('RT'), forEndpoint: 'x' });
    class Entry {
      getPassword = (): string => item;
      setPassword = (): void => undefined;
      deletePassword = (): boolean => true;
    }
    const module: KeyringModule = { Entry };
    await failure('keychain item', () => new KeyringTokenStore({ loadKeyring: async () => module, fallback: new MemoryTokenStore() }).get(key));

    const printed = secret('AT');
    const file = scripts.write('two-words.sh', `#!/bin/sh\necho 'Bearer ${printed}'\n`);
    await failure('command printing two words', () => new CommandAuthenticator({ command: [file] }).refreshCredentials());
    const failing = scripts.write('fails.sh', `#!/bin/sh\necho '${secret('AT')}'\nexit 3\n`);
    await failure('failing command that printed a token', () => new CommandAuthenticator({ command: [failing] }).refreshCredentials());
  });

  test('configuration errors while a secret is configured', async () => {
    const clientSecret = secret('client-secret');
    await failure('unknown authType with a secret set', () =>
      loadPlatformConfig({ env: { FLYTE_CREDENTIALS_CLIENT_SECRET: clientSecret, FLYTE_CREDENTIALS_AUTH_MODE: 'Nope' } }),
    );
    await failure('bad header key with a secret set', () =>
      loadPlatformConfig({ env: { FLYTE_CREDENTIALS_CLIENT_SECRET: clientSecret, FLYTE_ADMIN_AUTHORIZATIONHEADER: "Flyte Authorization" } }),
    );
    const cfg = await loadPlatformConfig({ env: { FLYTE_CREDENTIALS_CLIENT_SECRET: clientSecret, FLYTE_CREDENTIALS_AUTH_MODE: 'ClientSecret' } });
    await failure('client credentials without a client id', () => getAuthenticator(cfg, new StaticClientConfigStore({ tokenEndpoint: hostile.url })));
  });

  after(() => {
    assert.equal(collected.length, 27, `collected ${collected.length} errors`);
    for (const { scenario, error } of collected) {
      const graph = `${String(error)}\n${inspect(error, { depth: Infinity, showHidden: true })}`;
      for (const value of secrets) assert.ok(!graph.includes(value), `${scenario}: ${value.split('-')[0]} found in the error:\n${graph}`);
    }
  });
});

import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import {
  AuthenticationError,
  ClientCredentialsAuthenticator,
  CommandAuthenticator,
  createAuthInterceptor,
  createPlatformAuth,
  FileTokenStore,
  KeyringTokenStore,
  loadPlatformConfig,
  PKCEAuthenticator,
  StaticClientConfigStore,
  tokenStoreKey,
  type Authenticator,
  type KeyringModule,
} from '../../src/index.js';
import { accessTokenProblem, headerKeyProblem, MAX_ACCESS_TOKEN_LENGTH, validateHeaderKey } from '../../src/tokens/validate.js';
import { TOKEN_FAILURE_DETAILS_PREFIX } from '../../src/grpc-js/status.js';
import { rejectsWithAuthError } from '../support/assertions.js';
import { observeUnary } from '../support/calls.js';
import { cliEnv, runCliProcess } from '../support/cli.js';
import { createScriptDir } from '../support/commands.js';
import { EchoClient } from '../support/echo-service.js';
import { startFlyteServer, type TestFlyte } from '../support/flyte-server.js';
import { startHostileTokenEndpoint, tokenBody, type HostileTokenEndpoint } from '../support/hostile-token-endpoint.js';
import { BASIC_CLIENT, PUBLIC_CLIENT } from '../support/identity-provider.js';
import { watchProcessErrors } from '../support/process-errors.js';
import { createTempDir } from '../support/temp-dir.js';

const FAST_RETRY = { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 };

/** Tokens a hostile identity provider, file, keychain or command could hand out; none can go in a header. */
const BAD_TOKENS: Array<[string, string, RegExp]> = [
  ['CR/LF', 'abc-SECRET-crlf\r\nx-injected: 1', /character 16 of 30 is a carriage return/],
  ['a space', 'abc SECRET-space-token', /character 4 of 22 is a space/],
  ['non-ASCII', 'abcSECRET-ümlaut-token', /character 11 of 22 is a non-ASCII character/],
  ['empty', '', /it is empty/],
  ['too long', `SECRET-long-${'x'.repeat(MAX_ACCESS_TOKEN_LENGTH)}`, /it is 16396 characters long \(at most 16384 are accepted\)/],
];

function assertNoToken(error: unknown, token: string): void {
  if (token === '') return;
  const text = `${String(error)}\n${inspect(error, { depth: Infinity, showHidden: true })}`;
  assert.ok(!text.includes(token), 'the token appears in the error');
  assert.ok(!text.includes('SECRET'), 'part of the token appears in the error');
}

describe('accessTokenProblem / headerKeyProblem', () => {
  test('visible ASCII up to 16 KiB is a token; anything else says why without quoting it', () => {
    assert.equal(accessTokenProblem('eyJhbGciOi.J9-_~+/=.abc'), undefined);
    assert.equal(accessTokenProblem('!'.repeat(MAX_ACCESS_TOKEN_LENGTH)), undefined);
    assert.equal(accessTokenProblem(undefined), 'it is missing');
    assert.equal(accessTokenProblem(42), 'it is a number, not a string');
    assert.equal(accessTokenProblem('a\tb'), 'character 2 of 3 is a tab; only visible ASCII characters (0x21-0x7E) can be sent');
    assert.equal(accessTokenProblem('a\x7fb'), 'character 2 of 3 is a control character; only visible ASCII characters (0x21-0x7E) can be sent');
    for (const [, token, reason] of BAD_TOKENS) assert.match(accessTokenProblem(token)!, reason);
  });

  test('legal text metadata keys pass (lower-cased as grpc-js sends them); others are refused with a reason', () => {
    assert.equal(validateHeaderKey('Flyte-Authorization', 'test'), 'flyte-authorization');
    for (const key of ['authorization', 'flyte-authorization', 'x_token.v2', 'proxy-authorization']) assert.equal(headerKeyProblem(key), undefined, key);
    assert.match(headerKeyProblem('Flyte Authorization')!, /only the characters 0-9, a-z, _, \. and -/);
    assert.match(headerKeyProblem('x-token-bin')!, /-bin carry binary values/);
    assert.match(headerKeyProblem('grpc-timeout')!, /reserved for gRPC/);
    assert.match(headerKeyProblem('content-type')!, /a header gRPC or HTTP\/2 sets itself/);
    assert.match(headerKeyProblem(':authority')!, /only the characters/);
    assert.match(headerKeyProblem('')!, /empty/);
    assert.throws(() => validateHeaderKey('bad key\n', 'the headerKey option'), {
      name: 'AuthenticationError',
      code: 'ERR_CONFIG',
      message: /^the header key "bad key\?" from the headerKey option cannot be used: /,
    });
  });
});

describe('tokens are validated when obtained: the call ends UNAUTHENTICATED naming the source, never the token', () => {
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

  const clientCredentials = (): ClientCredentialsAuthenticator =>
    new ClientCredentialsAuthenticator({
      endpoint: flyte.address,
      ...BASIC_CLIENT,
      cfgStore: new StaticClientConfigStore({ tokenEndpoint: hostile.url }),
      retry: FAST_RETRY,
    });

  /** One unary call through the interceptor (with a deadline, so a hang fails the test instead of stalling it). */
  async function callWith(authenticator: Authenticator): Promise<grpc.StatusObject> {
    const client = new EchoClient(flyte.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(authenticator)] });
    try {
      const observed = await observeUnary(client, { text: 'hi' }, new grpc.Metadata(), { deadline: Date.now() + 10_000 });
      return observed.status;
    } finally {
      client.close();
    }
  }

  for (const [name, token, reason] of BAD_TOKENS) {
    test(`from the token endpoint: ${name}`, async () => {
      hostile.answer({ kind: 'json', body: tokenBody(token) });
      const before = hostile.requests;
      const error = await rejectsWithAuthError(clientCredentials().refreshCredentials(), {
        code: 'ERR_BAD_TOKEN_RESPONSE',
        message: new RegExp(`^the token endpoint ${hostile.url} gave an access token that cannot be sent as a bearer token: ${reason.source}`),
      });
      assert.equal(error.endpoint, hostile.url);
      assert.equal(hostile.requests - before, 1, 'a bad token is not retried');
      assertNoToken(error, token);

      const watch = watchProcessErrors();
      const status = await callWith(clientCredentials());
      assert.deepEqual(watch.stop(), [], 'nothing escaped the interceptor');
      assert.equal(status.code, grpc.status.UNAUTHENTICATED);
      assert.ok(status.details.startsWith(`${TOKEN_FAILURE_DETAILS_PREFIX}the token endpoint ${hostile.url} gave an access token`), status.details);
      if (token) assert.ok(!status.details.includes(token));
      assert.equal(flyte.server.calls.length, 0, 'no call reached the server');
    });
  }

  test('from the token file: the call that loads it fails naming the file and key; the file is left alone', async () => {
    const home = createTempDir('fga-bad-file-');
    try {
      const path = home.path('tokens.json');
      const key = tokenStoreKey(flyte.address, PUBLIC_CLIENT.clientId, 'pkce');
      const token = 'SECRET-file-token\r\nx-evil: 1';
      const content = JSON.stringify({ version: 1, credentials: { [key]: { accessToken: token, refreshToken: 'SECRET-refresh', forEndpoint: flyte.address } } });
      home.write('tokens.json', content);
      const store = new FileTokenStore({ path });
      const storeError = await rejectsWithAuthError(store.get(key), {
        code: 'ERR_BAD_TOKEN_RESPONSE',
        message: `the token file ${path} (entry ${key}) gave an access token that cannot be sent as a bearer token: character 18 of 28 is a carriage return; only visible ASCII characters (0x21-0x7E) can be sent`,
      });
      assert.equal(storeError.endpoint, path);
      assertNoToken(storeError, token);

      const pkce = new PKCEAuthenticator({
        endpoint: flyte.address,
        clientId: PUBLIC_CLIENT.clientId,
        cfgStore: new StaticClientConfigStore({ tokenEndpoint: flyte.idp.tokenEndpoint, authorizationEndpoint: flyte.idp.authorizationEndpoint }),
        tokenStore: store,
        openBrowser: () => assert.fail('no login may start'),
      });
      const watch = watchProcessErrors();
      const status = await callWith(pkce);
      assert.deepEqual(watch.stop(), []);
      assert.equal(status.code, grpc.status.UNAUTHENTICATED);
      assert.equal(status.details, `${TOKEN_FAILURE_DETAILS_PREFIX}${storeError.message}`);
      assert.equal(flyte.server.calls.length, 0);
      assert.equal(readFileSync(path, 'utf8'), content, 'the entry is not deleted behind the user’s back');
    } finally {
      home.cleanup();
    }
  });

  test('from the OS keychain: the item is named, the token is not', async (t) => {
    const key = tokenStoreKey(flyte.address, PUBLIC_CLIENT.clientId, 'deviceflow');
    const token = 'SECRET keychain token';
    const items = new Map([[`flyte-grpc-auth/${key}`, JSON.stringify({ accessToken: token, forEndpoint: flyte.address, expiresAt: Date.now() + 60_000 })]]);
    class Entry {
      readonly #id: string;
      constructor(service: string, account: string) {
        this.#id = `${service}/${account}`;
      }
      getPassword = (): string | null => items.get(this.#id) ?? null;
      setPassword = (value: string): void => void items.set(this.#id, value);
      deletePassword = (): boolean => items.delete(this.#id);
    }
    const module: KeyringModule = { Entry };
    const dir = createTempDir('fga-bad-keyring-');
    const store = new KeyringTokenStore({ loadKeyring: async () => module, fallback: new FileTokenStore({ path: dir.path('unused.json') }) });
    t.after(() => dir.cleanup());
    const error = await rejectsWithAuthError(store.get(key), {
      code: 'ERR_BAD_TOKEN_RESPONSE',
      message: `the OS keychain item ${key} (service flyte-grpc-auth) gave an access token that cannot be sent as a bearer token: character 7 of 21 is a space; only visible ASCII characters (0x21-0x7E) can be sent`,
    });
    assert.equal(store.usingFallback, false, 'a bad item is no keychain failure');
    assertNoToken(error, token);
  });

  test('from a command: a token over 16 KiB is refused naming the command', async () => {
    const scripts = createScriptDir();
    try {
      const file = scripts.write('long.sh', `#!/bin/sh\nhead -c 20000 /dev/zero | tr '\\000' 'S'\n`);
      const error = await rejectsWithAuthError(new CommandAuthenticator({ command: [file] }).refreshCredentials(), {
        code: 'ERR_BAD_TOKEN_RESPONSE',
        message: `command \`${file}\` printed a token of 20000 characters; at most 16384 are accepted`,
      });
      assert.equal(error.endpoint, file);
    } finally {
      scripts.cleanup();
    }
  });

  test('flyte-grpc-auth whoami and token exit 1 with one line that names the endpoint and never prints the token', async () => {
    const home = createTempDir('fga-bad-cli-');
    try {
      const token = 'SECRET-cli-token\r\nx-evil: yes';
      hostile.answer({ kind: 'json', body: tokenBody(token) });
      const env = cliEnv({
        HOME: home.dir,
        FLYTE_PLATFORM_URL: flyte.address,
        FLYTE_PLATFORM_INSECURE: 'true',
        FLYTE_CREDENTIALS_AUTH_MODE: 'ClientSecret',
        FLYTE_CREDENTIALS_CLIENT_ID: BASIC_CLIENT.clientId,
        FLYTE_CREDENTIALS_CLIENT_SECRET: BASIC_CLIENT.clientSecret,
        FLYTE_ADMIN_TOKENURL: hostile.url,
      });
      for (const command of ['whoami', 'token']) {
        const result = await runCliProcess([command], { cwd: home.dir, env });
        assert.equal(result.code, 1, result.stderr);
        assert.equal(result.stdout, '');
        assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`the token endpoint ${hostile.url} gave an access token that cannot be sent as a bearer token: character 17 of 29 is a carriage return`));
        assert.ok(!result.stderr.includes('SECRET'), result.stderr);
      }
    } finally {
      home.cleanup();
    }
  });
});

describe('header keys are validated where they come from', () => {
  test('admin.authorizationHeader and FLYTE_ADMIN_AUTHORIZATIONHEADER: ERR_CONFIG naming the key and its source', async () => {
    const dir = createTempDir('fga-header-');
    try {
      const file = dir.write('config.yaml', 'admin:\n  endpoint: dns:///127.0.0.1:1\n  authorizationHeader: Flyte Authorization\n');
      await rejectsWithAuthError(loadPlatformConfig({ configFile: file, env: {} }), {
        code: 'ERR_CONFIG',
        message: `Config file ${file}: admin.authorizationHeader: the header key "Flyte Authorization" cannot be used: a gRPC metadata key may hold only the characters 0-9, a-z, _, . and - (letters are lower-cased)`,
      });
      await rejectsWithAuthError(loadPlatformConfig({ configFile: file, env: { FLYTE_ADMIN_AUTHORIZATIONHEADER: 'x-token-bin' } }), {
        code: 'ERR_CONFIG',
        message: 'Environment variable FLYTE_ADMIN_AUTHORIZATIONHEADER: the header key "x-token-bin" cannot be used: keys ending in -bin carry binary values; a token needs a text key',
      });
      const fine = await loadPlatformConfig({ configFile: file, env: { FLYTE_ADMIN_AUTHORIZATIONHEADER: 'Flyte-Authorization' } });
      assert.equal(fine.authorizationHeader, 'Flyte-Authorization');
    } finally {
      dir.cleanup();
    }
  });

  test('the headerKey option and a static client config: ERR_CONFIG when constructed, before any call', () => {
    const cfgStore = new StaticClientConfigStore({ tokenEndpoint: 'http://127.0.0.1:1/token' });
    assert.throws(() => new ClientCredentialsAuthenticator({ endpoint: 'x', ...BASIC_CLIENT, cfgStore, headerKey: 'token-bin' }), {
      code: 'ERR_CONFIG',
      message: 'the header key "token-bin" from the headerKey option cannot be used: keys ending in -bin carry binary values; a token needs a text key',
    });
    assert.throws(() => new CommandAuthenticator({ command: ['true'], headerKey: 'Flyte Authorization' }), { code: 'ERR_CONFIG' });
    assert.throws(() => new StaticClientConfigStore({ tokenEndpoint: 'http://127.0.0.1:1/token', headerKey: 'grpc-status' }), {
      code: 'ERR_CONFIG',
      message: /^the header key "grpc-status" from the StaticClientConfigStore config \(headerKey\) cannot be used: /,
    });
    const upper = new ClientCredentialsAuthenticator({ endpoint: 'x', ...BASIC_CLIENT, cfgStore, headerKey: 'X-Flyte-Token' });
    assert.equal(upper.headerKey, 'x-flyte-token', 'lower-cased, as grpc-js sends it');
  });

  test('a server whose authorization_metadata_key is not a legal key: the call ends UNAUTHENTICATED with the reason', async () => {
    const flyte = await startFlyteServer({ publicClientConfig: { authorizationMetadataKey: 'Flyte Authorization' } });
    try {
      const cfg = await loadPlatformConfig({
        env: {
          FLYTE_PLATFORM_URL: flyte.address,
          FLYTE_PLATFORM_INSECURE: 'true',
          FLYTE_CREDENTIALS_AUTH_MODE: 'ClientSecret',
          FLYTE_CREDENTIALS_CLIENT_ID: BASIC_CLIENT.clientId,
          FLYTE_CREDENTIALS_CLIENT_SECRET: BASIC_CLIENT.clientSecret,
        },
      });
      const auth = createPlatformAuth(cfg);
      const client = new EchoClient(flyte.address, auth.channelCredentials, auth.clientOptions());
      const watch = watchProcessErrors();
      try {
        const observed = await observeUnary(client, { text: 'hi' }, new grpc.Metadata(), { deadline: Date.now() + 10_000 });
        assert.equal(observed.status.code, grpc.status.UNAUTHENTICATED);
        assert.equal(
          observed.status.details,
          `${TOKEN_FAILURE_DETAILS_PREFIX}the header key "Flyte Authorization" from the client config of ${flyte.address} (the server's authorization_metadata_key, or headerKey) cannot be used: a gRPC metadata key may hold only the characters 0-9, a-z, _, . and - (letters are lower-cased)`,
        );
        assert.equal(flyte.idp.tokenRequestCount, 0, 'no token is fetched for a key that cannot carry it');
      } finally {
        client.close();
        assert.deepEqual(watch.stop(), []);
      }
      const error = await auth.authenticator.refreshCredentials().catch((caught: unknown) => caught);
      assert.ok(error instanceof AuthenticationError && error.code === 'ERR_CONFIG');
    } finally {
      await flyte.close();
    }
  });
});

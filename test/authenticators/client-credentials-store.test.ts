import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, test, type TestContext } from 'node:test';
import { inspect } from 'node:util';
import type { Redis } from 'ioredis';
import {
  ClientCredentialsAuthenticator,
  createAuthInterceptor,
  createPlatformAuth,
  loadPlatformConfig,
  MemoryTokenStore,
  StaticClientConfigStore,
  tokenStoreKey,
  type ClientCredentialsAuthenticatorOptions,
  type Credentials,
  type OAuthFetch,
  type TokenStore,
} from '../../src/index.js';
import { RedisTokenStore, type RedisTokenStoreOptions } from '../../src/redis.js';
import { captureStderr } from '../support/capture-stderr.js';
import { EchoClient, unary, type EchoClientInstance } from '../support/echo-service.js';
import { passthrough } from '../support/oauth-fetch.js';
import { startGrpcServer, type TestGrpcServer } from '../support/grpc-server.js';
import { API_AUDIENCE, BASIC_CLIENT, startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.js';
import { createTempDir } from '../support/temp-dir.js';

const FAST_RETRY = { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 };

let idp: TestIdentityProvider;
let grpcServer: TestGrpcServer;
let redis: TestRedisServer;
let raw: Redis;
before(async () => {
  idp = await startIdentityProvider({ accessTokenTtlSeconds: 600 });
  grpcServer = await startGrpcServer({ issuer: idp.issuer, jwksUri: idp.jwksUri, audience: API_AUDIENCE });
  redis = await startRedisServer();
  raw = await redis.raw();
});
after(async () => {
  await grpcServer.close();
  await idp.close();
  await redis.close();
});
beforeEach(async () => {
  idp.tokenRequests.clear();
  await raw.flushall();
});

function clientCredentialsRequests(): number {
  return idp.tokenRequests.get('client_credentials') ?? 0;
}

function authenticator(tokenStore: TokenStore | undefined, overrides: Partial<ClientCredentialsAuthenticatorOptions> = {}): ClientCredentialsAuthenticator {
  return new ClientCredentialsAuthenticator({
    endpoint: grpcServer.address,
    ...BASIC_CLIENT,
    cfgStore: new StaticClientConfigStore({ tokenEndpoint: idp.tokenEndpoint, scopes: ['api:read'] }),
    retry: FAST_RETRY,
    tokenStore,
    ...overrides,
  });
}

function redisStore(t: TestContext, options: Partial<RedisTokenStoreOptions> = {}): { store: RedisTokenStore; warnings: string[] } {
  const warnings: string[] = [];
  const store = new RedisTokenStore({ redis: redis.url, warn: (message) => warnings.push(message), ...options });
  t.after(() => store.close());
  return { store, warnings };
}

function client(t: TestContext, auth: ClientCredentialsAuthenticator): EchoClientInstance {
  const echo = new EchoClient(grpcServer.address, grpc.credentials.createInsecure(), { interceptors: [createAuthInterceptor(auth)] });
  t.after(() => echo.close());
  return echo;
}

// Commands Redis executed so far, all clients together, leaving out the INFO that asks.
async function redisCommands(): Promise<number> {
  const stats = await raw.info('commandstats');
  return [...stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].filter(([, name]) => name !== 'info').reduce((sum, [, , calls]) => sum + Number(calls), 0);
}

const KEY = (address: string) => tokenStoreKey(address, BASIC_CLIENT.clientId, 'client_credentials {"scope":"api:read"}');

test('two authenticators on two connections: one token request; calls with a fresh token make no Redis round trip', async (t) => {
  const first = authenticator(redisStore(t).store);
  const second = authenticator(redisStore(t).store);
  const [clientA, clientB] = [client(t, first), client(t, second)];
  assert.equal((await unary(clientA, { text: 'a' })).subject, BASIC_CLIENT.clientId);
  assert.equal((await unary(clientB, { text: 'b' })).subject, BASIC_CLIENT.clientId);
  assert.equal(clientCredentialsRequests(), 1);
  assert.equal(second.getCredentials()?.accessToken, first.getCredentials()?.accessToken);
  assert.ok(await raw.exists(`flyte-grpc-auth:{${KEY(grpcServer.address)}}`));

  const before = await redisCommands();
  for (let i = 0; i < 20; i += 1) await Promise.all([unary(clientA, { text: 'x' }), unary(clientB, { text: 'y' })]);
  assert.equal(await redisCommands(), before, 'a fresh token is used from memory');
  assert.equal(clientCredentialsRequests(), 1);
});

test('a rejected token is compare-and-deleted: one process refreshes for all, the others adopt its token', async (t) => {
  // A's token requests after the first wait until the test opens the gate.
  let requests = 0;
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });
  const fetchToken: OAuthFetch = async (url, init) => {
    requests += 1;
    if (requests > 1) await gate;
    return passthrough(url, init);
  };
  const first = authenticator(redisStore(t).store, { fetch: fetchToken });
  const second = authenticator(redisStore(t).store);
  const [clientA, clientB] = [client(t, first), client(t, second)];
  await unary(clientA, { text: 'a' });
  await unary(clientB, { text: 'b' });
  const rejected = first.getCredentials()!.accessToken;
  // The server refuses A's (shared) token: A's interceptor refreshes and retries.
  grpcServer.rejectNext(1);
  const retried = unary(clientA, { text: 'after rejection' });
  while (requests < 2) await new Promise((resolve) => setTimeout(resolve, 5));
  // While A fetches, the refused token is no longer offered to anyone.
  assert.equal(await raw.exists(`flyte-grpc-auth:{${KEY(grpcServer.address)}}`), 0);
  openGate();
  assert.equal((await retried).subject, BASIC_CLIENT.clientId);
  assert.equal(clientCredentialsRequests(), 2);
  const replacement = first.getCredentials()!.accessToken;
  assert.notEqual(replacement, rejected);
  // B is refused the same token: it finds A's replacement instead of fetching.
  grpcServer.rejectNext(1);
  assert.equal((await unary(clientB, { text: 'b again' })).subject, BASIC_CLIENT.clientId);
  assert.equal(clientCredentialsRequests(), 2);
  assert.equal(second.getCredentials()?.accessToken, replacement);
});

test('a token inside the refresh window is not shared: the next process fetches (under the lock) and the store holds the newer token', async (t) => {
  const first = authenticator(redisStore(t).store);
  await first.refreshCredentials();
  // For the second authenticator, every token is due for refresh.
  const second = authenticator(redisStore(t).store, { refreshWindowMs: 3_600_000 });
  await second.refreshCredentials();
  assert.equal(clientCredentialsRequests(), 2);
  const stored = await new RedisTokenStore({ redis: raw }).get(KEY(grpcServer.address));
  assert.equal(stored?.accessToken, second.getCredentials()?.accessToken);
});

test('other scopes or audience are another token: no sharing between them', async (t) => {
  const readOnly = authenticator(redisStore(t).store);
  const readWrite = authenticator(redisStore(t).store, { scopes: ['api:read', 'api:write'] });
  await readOnly.refreshCredentials();
  await readWrite.refreshCredentials();
  assert.equal(clientCredentialsRequests(), 2);
  assert.deepEqual((await raw.keys('*')).sort().reverse(), [
    `flyte-grpc-auth:{${KEY(grpcServer.address)}}`,
    `flyte-grpc-auth:{${tokenStoreKey(grpcServer.address, BASIC_CLIENT.clientId, 'client_credentials {"scope":"api:read api:write"}')}}`,
  ]);
  // Scopes in another order are the same token.
  await authenticator(redisStore(t).store, { scopes: ['api:write', 'api:read'] }).refreshCredentials();
  assert.equal(clientCredentialsRequests(), 2);
  await authenticator(redisStore(t).store, { audience: 'urn:other' }).refreshCredentials();
  assert.equal(clientCredentialsRequests(), 3);
});

test('Redis refuses the password: calls succeed with tokens of their own, one warning naming the URL without the password', async (t) => {
  const guarded = await startRedisServer({ user: { name: 'fleet', password: 'right-secret' } });
  t.after(() => guarded.close());
  const { store, warnings } = redisStore(t, { redis: `redis://fleet:wrong-secret@127.0.0.1:${guarded.port}` });
  const echo = client(t, authenticator(store));
  for (let i = 0; i < 3; i += 1) assert.equal((await unary(echo, { text: 'x' })).subject, BASIC_CLIENT.clientId);
  assert.equal(clientCredentialsRequests(), 1);
  assert.deepEqual(warnings, [
    `flyte-grpc-auth: the Redis token store redis://fleet@127.0.0.1:${guarded.port} is unavailable (it refused the credentials: WRONGPASS invalid username-password pair or user is disabled.); this process fetches its own tokens until Redis answers again.`,
  ]);
  assert.ok(!inspect(warnings).includes('wrong-secret'));
});

test('encryptionKey: the shared value never holds the token in clear text; a process with another key warns once and fetches its own', async (t) => {
  const key = randomBytes(32);
  const sealed = authenticator(redisStore(t, { encryptionKey: key }).store);
  await unary(client(t, sealed), { text: 'x' });
  const token = sealed.getCredentials()!.accessToken;
  const value = (await raw.get(`flyte-grpc-auth:{${KEY(grpcServer.address)}}`)) ?? '';
  assert.ok(value.startsWith('fga1:'));
  for (const part of [token, ...token.split('.')]) assert.ok(!value.includes(part), 'the token (or a part of it) is in the value');

  const sameKey = authenticator(redisStore(t, { encryptionKey: key.toString('base64') }).store);
  await unary(client(t, sameKey), { text: 'x' });
  assert.equal(clientCredentialsRequests(), 1);

  const other = redisStore(t, { encryptionKey: randomBytes(32) });
  const otherKey = authenticator(other.store);
  for (let i = 0; i < 2; i += 1) assert.equal((await unary(client(t, otherKey), { text: 'x' })).subject, BASIC_CLIENT.clientId);
  assert.equal(clientCredentialsRequests(), 2);
  assert.equal(other.warnings.length, 1);
  assert.match(other.warnings[0]!, /does not open with this encryptionKey/);
});

test('a token store that throws costs one warning, never a call', async (t) => {
  const broken: TokenStore = {
    get: () => Promise.reject(new Error('store down')),
    set: () => Promise.reject(new Error('store down')),
    delete: () => Promise.reject(new Error('store down')),
    compareAndDelete: () => Promise.reject(new Error('store down')),
    withLock: () => Promise.reject(new Error('lock down')),
  };
  const stderr = captureStderr();
  t.after(() => stderr.restore());
  const auth = authenticator(broken);
  const echo = client(t, auth);
  await unary(echo, { text: 'x' });
  grpcServer.rejectNext(1);
  await unary(echo, { text: 'rejected once' });
  assert.equal(clientCredentialsRequests(), 2);
  await new Promise((resolve) => setImmediate(resolve));
  stderr.restore();
  const warnings = stderr.text().split('\n').filter((line) => line.includes('FlyteGrpcAuthWarning'));
  assert.deepEqual(
    warnings.map((line) => line.replace(/^\(node:\d+\) /, '')),
    [
      'FlyteGrpcAuthWarning: flyte-grpc-auth: cannot read the shared token in the token store (store down); fetching without it.',
      'FlyteGrpcAuthWarning: flyte-grpc-auth: cannot lock the shared token in the token store (lock down); fetching without it.',
      'FlyteGrpcAuthWarning: flyte-grpc-auth: cannot write the shared token in the token store (store down); fetching without it.',
      'FlyteGrpcAuthWarning: flyte-grpc-auth: cannot delete the shared token in the token store (store down); fetching without it.',
    ],
  );
});

test('a store without withLock or compareAndDelete (MemoryTokenStore) shares too, comparing before it deletes', async () => {
  const shared = new MemoryTokenStore();
  const first = authenticator(shared);
  const second = authenticator(shared);
  await first.refreshCredentials();
  await second.fetchGrpcCallAuthMetadata();
  assert.equal(clientCredentialsRequests(), 1);
  // Refused: A deletes its token from the store and fetches; B, refused the same token, adopts A's.
  // (What the interceptor does when the server answers UNAUTHENTICATED.)
  await first.refreshAfterRejection(first.currentAuthMetadata());
  await second.refreshAfterRejection(second.currentAuthMetadata());
  assert.equal(clientCredentialsRequests(), 2);
  assert.equal(second.getCredentials()?.accessToken, first.getCredentials()?.accessToken);
  const stored: Credentials | undefined = await shared.get(KEY(grpcServer.address));
  assert.equal(stored?.accessToken, first.getCredentials()?.accessToken);
});

test('createPlatformAuth(cfg, { tokenStore }) gives the client-credentials authenticator the store', async (t) => {
  const dir = createTempDir();
  t.after(() => dir.cleanup());
  const file = dir.write(
    'config.yaml',
    `admin:\n  endpoint: dns:///${grpcServer.address}\n  insecure: true\n  authType: ClientSecret\n  clientId: ${BASIC_CLIENT.clientId}\n  tokenUrl: ${idp.tokenEndpoint}\n  scopes: [api:read]\n`,
  );
  const cfg = await loadPlatformConfig({ configFile: file, env: { HOME: dir.dir, FLYTE_CREDENTIALS_CLIENT_SECRET: BASIC_CLIENT.clientSecret } });
  const [first, second] = [createPlatformAuth(cfg, { tokenStore: redisStore(t).store }), createPlatformAuth(cfg, { tokenStore: redisStore(t).store })];
  for (const auth of [first, second]) {
    const echo = new EchoClient(grpcServer.address, auth.channelCredentials, auth.clientOptions());
    t.after(() => echo.close());
    assert.equal((await unary(echo, { text: 'x' })).subject, BASIC_CLIENT.clientId);
  }
  assert.equal(clientCredentialsRequests(), 1);
  assert.equal(await raw.exists(`flyte-grpc-auth:{${KEY(grpcServer.address)}}`), 1);
});

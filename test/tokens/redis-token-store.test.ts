import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { Cluster, Redis } from 'ioredis';
import { tokenStoreKey, type Credentials } from '../../src/index.js';
import { RedisTokenStore, type RedisTokenStoreOptions } from '../../src/redis.js';
import { rejectsWithAuthError } from '../support/assertions.js';
import { PACKAGE_ROOT } from '../support/child-process.js';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.js';

let server: TestRedisServer;
let raw: Redis;
before(async () => {
  server = await startRedisServer();
  raw = await server.raw();
});
after(() => server.close());

const KEY = tokenStoreKey('flyte.example.com:443', 'svc', 'client_credentials');
const KEY_BYTES = randomBytes(32);
let prefixes = 0;

interface StoreUnderTest {
  store: RedisTokenStore;
  warnings: string[];
  prefix: string;
}

/** A store with a prefix of its own (so tests never see each other's keys), closed after the test. */
function newStore(t: TestContext, options: Partial<RedisTokenStoreOptions> = {}): StoreUnderTest {
  const warnings: string[] = [];
  const prefix = options.prefix ?? `test${(prefixes += 1)}:`;
  const store = new RedisTokenStore({ redis: server.url, operationTimeoutMs: 500, warn: (message) => warnings.push(message), ...options, prefix });
  t.after(() => store.close());
  return { store, warnings, prefix };
}

// Scripts Redis ran so far, all clients together.
async function redisCommandCount(): Promise<number> {
  const stats = await raw.info('commandstats');
  return [...stats.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)].reduce((sum, [, , calls]) => sum + Number(calls), 0);
}

function credentials(name: string, expiresInMs = 60_000, extra: Partial<Credentials> = {}): Credentials {
  return { accessToken: `SECRET-ACCESS-${name}`, expiresAt: Date.now() + expiresInMs, forEndpoint: 'flyte.example.com:443', ...extra };
}

test('round trip: a missing key is undefined; set, get, delete; the key is prefix + {tokenStoreKey}, the value expires with the token', async (t) => {
  const { store, prefix, warnings } = newStore(t);
  assert.equal(await store.get(KEY), undefined);
  const stored = credentials('one', 60_000, { idToken: 'SECRET-ID' });
  const before = Date.now();
  await store.set(KEY, stored);
  assert.deepEqual(await store.get(KEY), stored);
  assert.equal(store.redisKey(KEY), `${prefix}{${KEY}}`);
  const ttl = await raw.pttl(`${prefix}{${KEY}}`);
  // Between the token's remaining lifetime before the write and after the check (ms rounding aside).
  const remaining = stored.expiresAt! - Date.now();
  assert.ok(ttl <= stored.expiresAt! - before + 1 && ttl >= remaining - 2, `PTTL ${ttl} follows the token's expiry (${remaining} ms left)`);
  await store.delete(KEY);
  assert.equal(await store.get(KEY), undefined);
  assert.equal(await raw.exists(`${prefix}{${KEY}}`), 0);
  await store.delete(KEY); // nothing to delete is no error
  assert.deepEqual(warnings, []);
});

test('TTL: credentials with a refresh token (or no known expiry) last 30 days after a write; expired ones without a refresh token are not written', async (t) => {
  const { store, prefix } = newStore(t);
  const thirtyDays = 30 * 86_400_000;
  await store.set('with-refresh', credentials('r', 60_000, { refreshToken: 'SECRET-REFRESH' }));
  const refreshTtl = await raw.pttl(`${prefix}{with-refresh}`);
  assert.ok(refreshTtl > thirtyDays - 60_000 && refreshTtl <= thirtyDays, String(refreshTtl));
  await store.set('no-expiry', { accessToken: 'SECRET-OPAQUE', forEndpoint: 'e' });
  assert.ok((await raw.pttl(`${prefix}{no-expiry}`)) > thirtyDays - 60_000);
  assert.deepEqual(await store.get('no-expiry'), { accessToken: 'SECRET-OPAQUE', forEndpoint: 'e' });
  // A token claiming to live for centuries still leaves Redis within 30 days.
  await store.set('far', credentials('far', 1e12));
  assert.ok((await raw.pttl(`${prefix}{far}`)) <= thirtyDays);
  await store.set('expired', credentials('expired', -1_000));
  assert.equal(await raw.exists(`${prefix}{expired}`), 0);
  // An expired access token with a refresh token is still worth keeping.
  await store.set('expired-refresh', credentials('expired', -1_000, { refreshToken: 'SECRET-REFRESH' }));
  assert.equal((await store.get('expired-refresh'))?.refreshToken, 'SECRET-REFRESH');
});

test('Lua compare: a writer never replaces a token that expires later; equal, later or unknown expiries replace', async (t) => {
  const { store } = newStore(t);
  const now = Date.now();
  const at = (name: string, expiresAt: number | undefined): Credentials =>
    expiresAt === undefined ? { accessToken: name, forEndpoint: 'e' } : { accessToken: name, expiresAt, forEndpoint: 'e' };
  await store.set(KEY, at('late', now + 60_000));
  await store.set(KEY, at('early', now + 30_000));
  assert.equal((await store.get(KEY))?.accessToken, 'late', 'an older token does not roll the store back');
  await store.set(KEY, at('same', now + 60_000));
  assert.equal((await store.get(KEY))?.accessToken, 'same', 'an equal expiry replaces (the later write wins)');
  await store.set(KEY, at('later', now + 90_000));
  assert.equal((await store.get(KEY))?.accessToken, 'later');
  await store.set(KEY, at('unknown', undefined));
  assert.equal((await store.get(KEY))?.accessToken, 'unknown', 'a writer with no known expiry is not compared');
  await store.set(KEY, at('after-unknown', now + 10_000));
  assert.equal((await store.get(KEY))?.accessToken, 'after-unknown', 'a stored token with no known expiry is not compared');
  // A refreshed login whose access token lives shorter than the stored one: its rotated refresh token must not be lost.
  await store.set(KEY, { ...at('login', now + 3_600_000), refreshToken: 'SECRET-REFRESH-1' });
  await store.set(KEY, { ...at('refreshed', now + 60_000), refreshToken: 'SECRET-REFRESH-2' });
  assert.equal((await store.get(KEY))?.refreshToken, 'SECRET-REFRESH-2', 'with a refresh token the latest write wins');
});

test('Lua compare under interleavings: concurrent writers through separate connections leave the latest-expiring token', async (t) => {
  const writers = [newStore(t, { prefix: 'interleave:' }), newStore(t, { prefix: 'interleave:' }), newStore(t, { prefix: 'interleave:' })];
  let run = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ writer: fc.integer({ min: 0, max: 2 }), expiresIn: fc.integer({ min: 1_000, max: 600_000 }), delayMs: fc.integer({ min: 0, max: 3 }) }), {
        minLength: 1,
        maxLength: 8,
      }),
      async (writes) => {
        const key = `k${(run += 1)}`;
        const now = Date.now();
        await Promise.all(
          writes.map(async ({ writer, expiresIn, delayMs }, index) => {
            await sleep(delayMs);
            await writers[writer]!.store.set(key, { accessToken: `w${index}`, expiresAt: now + expiresIn, forEndpoint: 'e' });
          }),
        );
        const latest = Math.max(...writes.map((write) => write.expiresIn));
        assert.equal((await writers[0]!.store.get(key))?.expiresAt, now + latest);
      },
    ),
    { numRuns: 40 },
  );
  for (const writer of writers) assert.deepEqual(writer.warnings, []);
});

test('compareAndDelete removes the value only while it still holds the refused token (plain and sealed)', async (t) => {
  for (const encryptionKey of [undefined, KEY_BYTES]) {
    const { store } = newStore(t, { encryptionKey });
    await store.set(KEY, credentials('current'));
    await store.compareAndDelete(KEY, 'SECRET-ACCESS-older');
    assert.equal((await store.get(KEY))?.accessToken, 'SECRET-ACCESS-current', 'another token stays');
    await store.compareAndDelete(KEY, 'SECRET-ACCESS-current');
    assert.equal(await store.get(KEY), undefined);
    await store.compareAndDelete(KEY, 'SECRET-ACCESS-current'); // nothing there: no error
  }
});

test('garbage in Redis (other formats, types, huge values, tampered payloads) reads as absent with one warning per kind, and the next write repairs it', async (t) => {
  const { store, prefix, warnings } = newStore(t);
  const redisKey = `${prefix}{${KEY}}`;
  const garbage: Array<() => Promise<unknown>> = [
    () => raw.set(redisKey, 'not a token'),
    () => raw.set(redisKey, 'fga1:123:00000000000000000000000000000000:p:{not json'),
    () => raw.set(redisKey, `fga1::00000000000000000000000000000000:p:${JSON.stringify({ accessToken: 'x', forEndpoint: 'e' })}`), // wrong fingerprint
    () => raw.set(redisKey, 'x'.repeat(70_000)),
    () => raw.hset(redisKey, 'accessToken', 'x'),
    () => raw.rpush(redisKey, 'x'),
  ];
  for (const plant of garbage) {
    await raw.del(redisKey);
    await plant();
    assert.equal(await store.get(KEY), undefined);
    await store.set(KEY, credentials('repaired'));
    assert.equal((await store.get(KEY))?.accessToken, 'SECRET-ACCESS-repaired');
  }
  assert.deepEqual(
    warnings.map((warning) => /in the Redis token store redis:\/\/127\.0\.0\.1:\d+ (.*); treating it as absent\.$/.exec(warning)?.[1]),
    ['is not stored credentials', 'is larger than 65536 bytes'],
  );
  assert.ok(warnings.every((warning) => warning.includes(`the value of ${redisKey} `)));
});

test('garbage in Redis, any bytes: get never rejects and finds nothing; set then get works', async (t) => {
  const { store, prefix } = newStore(t);
  const redisKey = `${prefix}{${KEY}}`;
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)), fc.string().map((s) => `fga1:${s}`)), async (value) => {
      await raw.set(redisKey, value);
      assert.equal(await store.get(KEY), undefined);
    }),
    { numRuns: 60 },
  );
  await store.set(KEY, credentials('after'));
  assert.equal((await store.get(KEY))?.accessToken, 'SECRET-ACCESS-after');
});

test('a planted value claiming a far-future expiry does not block writers', async (t) => {
  const { store, prefix } = newStore(t);
  await raw.set(`${prefix}{${KEY}}`, 'fga1:9999999999999999:00000000000000000000000000000000:p:{}');
  await store.set(KEY, credentials('writer'));
  assert.equal((await store.get(KEY))?.accessToken, 'SECRET-ACCESS-writer');
});

test('encryptionKey: the stored value never holds a token in clear text; the same key (any encoding) opens it', async (t) => {
  const sealed = newStore(t, { encryptionKey: KEY_BYTES });
  const stored = credentials('sealed', 60_000, { refreshToken: 'SECRET-REFRESH-sealed', idToken: 'SECRET-ID-sealed' });
  await sealed.store.set(KEY, stored);
  const value = (await raw.get(`${sealed.prefix}{${KEY}}`)) ?? '';
  assert.match(value, /^fga1:\d+:[0-9a-f]{32}:s:[A-Za-z0-9_-]+$/);
  for (const secret of ['SECRET', 'sealed', Buffer.from('SECRET-ACCESS').toString('base64')]) assert.ok(!value.includes(secret), `value contains ${secret}`);
  assert.deepEqual(await sealed.store.get(KEY), stored);
  for (const encoding of [KEY_BYTES.toString('hex'), KEY_BYTES.toString('base64'), KEY_BYTES.toString('base64url'), new Uint8Array(KEY_BYTES)]) {
    const other = newStore(t, { encryptionKey: encoding, prefix: sealed.prefix });
    assert.deepEqual(await other.store.get(KEY), stored);
  }
});

test('encryptionKey mismatch: another key, no key, a plain value under a key, a value moved to another key: absent, one clear warning each', async (t) => {
  const writer = newStore(t, { encryptionKey: KEY_BYTES });
  await writer.store.set(KEY, credentials('sealed'));
  const otherKey = newStore(t, { encryptionKey: randomBytes(32), prefix: writer.prefix });
  assert.equal(await otherKey.store.get(KEY), undefined);
  assert.equal(await otherKey.store.get(KEY), undefined);
  assert.deepEqual(otherKey.warnings, [
    `flyte-grpc-auth: the value of ${writer.prefix}{${KEY}} in the Redis token store redis://127.0.0.1:${server.port} does not open with this encryptionKey (another key, or tampered with); treating it as absent.`,
  ]);
  const noKey = newStore(t, { prefix: writer.prefix });
  assert.equal(await noKey.store.get(KEY), undefined);
  assert.match(noKey.warnings.join('\n'), /is encrypted, but this store has no encryptionKey/);

  const plain = newStore(t);
  await plain.store.set(KEY, credentials('plain'));
  const keyed = newStore(t, { encryptionKey: KEY_BYTES, prefix: plain.prefix });
  assert.equal(await keyed.store.get(KEY), undefined);
  assert.match(keyed.warnings.join('\n'), /is not encrypted, but this store has an encryptionKey/);

  // A sealed value is bound to its key: copied elsewhere it does not open.
  await raw.copy(`${writer.prefix}{${KEY}}`, `${writer.prefix}{moved}`);
  const mover = newStore(t, { encryptionKey: KEY_BYTES, prefix: writer.prefix });
  assert.equal(await mover.store.get('moved'), undefined);
  assert.match(mover.warnings.join('\n'), /does not open/);
  for (const warning of [...otherKey.warnings, ...noKey.warnings, ...keyed.warnings, ...mover.warnings]) assert.ok(!warning.includes('SECRET'));
});

test('invalid options throw ERR_CONFIG without repeating a secret', async () => {
  const cases: Array<[Partial<RedisTokenStoreOptions>, RegExp]> = [
    [{ redis: 'http://user:topsecret@127.0.0.1:6379' }, /redis:\/\/ or rediss:\/\/ URL/],
    [{ redis: 'not a url topsecret' }, /redis:\/\/ or rediss:\/\/ URL/],
    [{ redis: null as unknown as string }, /redis:\/\/ or rediss:\/\/ URL/],
    [{ redis: {} as unknown as string }, /ioredis Redis or an ioredis Cluster/],
    [{ prefix: 'a{b}' }, /prefix must be/],
    [{ lockTtlMs: 0 }, /lockTtlMs must be a number of milliseconds >= 1/],
    [{ lockWaitMs: -1 }, /lockWaitMs must be/],
    [{ operationTimeoutMs: Number.NaN }, /operationTimeoutMs must be/],
    [{ encryptionKey: 'topsecret' }, /encryptionKey must be 32 bytes/],
    [{ encryptionKey: randomBytes(16) }, /encryptionKey must be 32 bytes/],
  ];
  for (const [options, message] of cases) {
    const error = await rejectsWithAuthError(
      (async () => new RedisTokenStore({ redis: server.url, ...options }))(),
      { code: 'ERR_CONFIG', message },
    );
    assert.ok(!inspect(error, { depth: Infinity }).includes('topsecret'));
  }
});

test('withLock under interleavings: stores on separate connections never run their sections at once', async (t) => {
  const stores = [0, 1, 2, 3].map(() => newStore(t, { prefix: 'exclusive:' }));
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.record({ store: fc.integer({ min: 0, max: 3 }), holdMs: fc.integer({ min: 0, max: 15 }), startMs: fc.integer({ min: 0, max: 10 }) }), { minLength: 2, maxLength: 5 }), async (sections) => {
      const key = `x${(run += 1)}`;
      let inside = 0;
      let most = 0;
      await Promise.all(
        sections.map(async ({ store, holdMs, startMs }) => {
          await sleep(startMs);
          await stores[store]!.store.withLock(key, async () => {
            inside += 1;
            most = Math.max(most, inside);
            await sleep(holdMs);
            inside -= 1;
          });
        }),
      );
      assert.equal(most, 1);
    }),
    { numRuns: 15 },
  );
  for (const { warnings } of stores) assert.deepEqual(warnings, []);
});

test('withLock: waiters go on as soon as the holder stores a newer token, and find it (no queue through the lock)', async (t) => {
  const holder = newStore(t, { prefix: 'newer:' });
  const waiters = [newStore(t, { prefix: 'newer:' }), newStore(t, { prefix: 'newer:' })];
  await holder.store.set(KEY, credentials('old', 10_000));
  const lockKey = `newer:{${KEY}}:lock`;
  let release!: () => void;
  const holding = new Promise<void>((resolve) => {
    release = resolve;
  });
  let stored!: () => void;
  const written = new Promise<void>((resolve) => {
    stored = resolve;
  });
  const holderDone = holder.store.withLock(KEY, async () => {
    await written;
    await holder.store.set(KEY, credentials('new', 60_000));
    await holding; // still holding the lock
  });
  while (!(await raw.exists(lockKey))) await sleep(5);
  const before = await redisCommandCount();
  const found = waiters.map(({ store }) =>
    store.withLock(KEY, async () => ({ token: (await store.get(KEY))?.accessToken, lock: await raw.get(lockKey) })),
  );
  // Both waiters found the lock taken (and the old token there) before the holder writes.
  while ((await redisCommandCount()) < before + 2) await sleep(5);
  stored();
  const results = await Promise.all(found);
  const holderLock = await raw.get(lockKey);
  release();
  await holderDone;
  assert.deepEqual(results, [
    { token: 'SECRET-ACCESS-new', lock: holderLock },
    { token: 'SECRET-ACCESS-new', lock: holderLock },
  ]);
  assert.deepEqual([...waiters[0]!.warnings, ...waiters[1]!.warnings], []);
  // Both waited: without the holder's write they would still be waiting.
  assert.ok(holderLock);
});

test('withLock: re-entrant; the lock has a random value and a TTL; only its holder releases it', async (t) => {
  const { store, prefix } = newStore(t, { lockTtlMs: 5_000 });
  const lockKey = `${prefix}{${KEY}}:lock`;
  const inner = await store.withLock(KEY, async () => {
    const value = await raw.get(lockKey);
    assert.match(value ?? '', /^[A-Za-z0-9_-]{24}$/);
    const ttl = await raw.pttl(lockKey);
    assert.ok(ttl > 0 && ttl <= 5_000);
    const nested = await store.withLock(KEY, async () => 'nested');
    assert.equal(await raw.get(lockKey), value, 'the nested section neither waited nor released');
    // Someone else's lock now (ours expired and another process took it): our release must not delete it.
    await raw.set(lockKey, 'someone-else', 'PX', 5_000);
    return nested;
  });
  assert.equal(inner, 'nested');
  await store.get(KEY); // after the release
  assert.equal(await raw.get(lockKey), 'someone-else');
});

test('withLock: the lock comes with the value (one round trip); a write inside the lock is read back, not the value read with the lock', async (t) => {
  const { store } = newStore(t);
  await store.set(KEY, credentials('before'));
  const before = await redisCommandCount();
  await store.withLock(KEY, async () => {
    assert.equal((await store.get(KEY))?.accessToken, 'SECRET-ACCESS-before');
    assert.equal(await redisCommandCount(), before + 1, 'the lock script read the value');
    await store.set(KEY, credentials('inside'));
    assert.equal((await store.get(KEY))?.accessToken, 'SECRET-ACCESS-inside');
  });
});

test('withLock: a holder that died (its lock left in Redis) is replaced once the lock expires: the waiter then runs under a lock of its own', async (t) => {
  const { store, prefix, warnings } = newStore(t, { lockTtlMs: 400, lockWaitMs: 20_000 });
  const lockKey = `${prefix}{${KEY}}:lock`;
  await raw.set(lockKey, 'dead-holder', 'PX', 400);
  const holder = await store.withLock(KEY, async () => raw.get(lockKey));
  assert.ok(holder !== null && holder !== 'dead-holder', 'the waiter ran holding a lock of its own');
  assert.deepEqual(warnings, []);
});

test('withLock: a lock key without an expiry (not ours) gets one, so it cannot block refreshes forever', async (t) => {
  const { store, prefix, warnings } = newStore(t, { lockTtlMs: 300, lockWaitMs: 20_000 });
  const lockKey = `${prefix}{${KEY}}:lock`;
  await raw.set(lockKey, 'stuck');
  const holder = await store.withLock(KEY, async () => raw.get(lockKey));
  assert.ok(holder !== null && holder !== 'stuck');
  assert.deepEqual(warnings, []);
});

test('withLock: a waiter gives up after lockWaitMs, runs without the lock, and warns once', async (t) => {
  const { store, prefix, warnings } = newStore(t, { lockWaitMs: 100 });
  const lockKey = `${prefix}{${KEY}}:lock`;
  await raw.set(lockKey, 'busy-holder', 'PX', 60_000);
  assert.equal(await store.withLock(KEY, async () => raw.get(lockKey)), 'busy-holder');
  assert.equal(await store.withLock(KEY, async () => 'again'), 'again');
  assert.deepEqual(warnings, [
    `flyte-grpc-auth: waited 100 ms for the lock ${lockKey} in the Redis token store redis://127.0.0.1:${server.port}; continuing without it, so this process may fetch a token of its own.`,
  ]);
  assert.equal(await raw.get(lockKey), 'busy-holder', 'not released by a non-holder');
});

test('withLock: a live holder keeps its lock past lockTtlMs; fn errors propagate and release the lock', async (t) => {
  const holder = newStore(t, { prefix: 'renew:', lockTtlMs: 1_000 });
  const waiter = newStore(t, { prefix: 'renew:', lockWaitMs: 0 });
  const lockKey = `renew:{${KEY}}:lock`;
  await holder.store.withLock(KEY, async () => {
    const value = await raw.get(lockKey);
    await sleep(1_600);
    assert.equal(await raw.get(lockKey), value, 'extended while the holder runs');
    assert.equal(await waiter.store.withLock(KEY, async () => 'unlocked'), 'unlocked');
  });
  assert.equal(waiter.warnings.length, 1);
  await assert.rejects(holder.store.withLock(KEY, async () => Promise.reject(new Error('fetch failed'))), /fetch failed/);
  await holder.store.get(KEY); // after the release
  assert.equal(await raw.exists(lockKey), 0);
});

test('Redis stopped: operations resolve (nothing found, writes skipped, fn runs unlocked), one warning per outage; sharing resumes when it is back', async (t) => {
  const own = await startRedisServer();
  t.after(() => own.close());
  const warnings: string[] = [];
  const store = new RedisTokenStore({ redis: own.url, operationTimeoutMs: 500, warn: (message) => warnings.push(message) });
  t.after(() => store.close());
  await store.set(KEY, credentials('before'));
  await own.stop();
  for (let i = 0; i < 3; i += 1) {
    assert.equal(await store.get(KEY), undefined);
    await store.set(KEY, credentials('during'));
    await store.compareAndDelete(KEY, 'SECRET-ACCESS-before');
    await store.delete(KEY);
    assert.equal(await store.withLock(KEY, async () => 'ran'), 'ran');
  }
  // Whichever the store notices first: its connection closing, or the refused reconnection.
  assert.equal(warnings.length, 1);
  assert.ok(
    [`connect ECONNREFUSED 127.0.0.1:${own.port}`, 'the connection was closed'].some(
      (reason) =>
        warnings[0] ===
        `flyte-grpc-auth: the Redis token store redis://127.0.0.1:${own.port} is unavailable (${reason}); this process fetches its own tokens until Redis answers again.`,
    ),
    warnings[0],
  );
  await own.start();
  await sleep(1_100); // the store tries Redis again at most once a second during an outage
  await store.set(KEY, credentials('after'));
  assert.equal((await store.get(KEY))?.accessToken, 'SECRET-ACCESS-after');
  // A second outage is news again.
  await own.stop();
  assert.equal(await store.get(KEY), undefined);
  assert.equal(warnings.length, 2);
});

test('Redis frozen (answers nothing): every operation gives up after operationTimeoutMs, with one warning', async (t) => {
  const own = await startRedisServer();
  t.after(() => own.close());
  const warnings: string[] = [];
  const store = new RedisTokenStore({ redis: own.url, operationTimeoutMs: 200, warn: (message) => warnings.push(message) });
  t.after(() => store.close());
  await store.set(KEY, credentials('before'));
  own.pause();
  t.after(() => own.resume());
  assert.equal(await store.get(KEY), undefined);
  assert.equal(await store.withLock(KEY, async () => 'ran'), 'ran');
  assert.deepEqual(warnings, [
    `flyte-grpc-auth: the Redis token store redis://127.0.0.1:${own.port} is unavailable (no answer within 200 ms); this process fetches its own tokens until Redis answers again.`,
  ]);
});

// The ACL docs/fleet.md recommends: the store's keys and the commands its scripts run, nothing else.
const STORE_ACL = '~flyte-grpc-auth:* resetchannels -@all +evalsha +eval +get +set +del +strlen +getrange +pttl +pexpire';

test('Redis refuses the password: a warning naming the URL without the password, operations resolve', async (t) => {
  const guarded = await startRedisServer({ user: { name: 'fleet', password: 'right-secret', rules: STORE_ACL } });
  t.after(() => guarded.close());
  const warnings: string[] = [];
  const store = new RedisTokenStore({ redis: `redis://fleet:wrong-secret@127.0.0.1:${guarded.port}/0`, warn: (message) => warnings.push(message) });
  t.after(() => store.close());
  await store.set(KEY, credentials('x'));
  assert.equal(await store.get(KEY), undefined);
  assert.deepEqual(warnings, [
    `flyte-grpc-auth: the Redis token store redis://fleet@127.0.0.1:${guarded.port}/0 is unavailable (it refused the credentials: WRONGPASS invalid username-password pair or user is disabled.); this process fetches its own tokens until Redis answers again.`,
  ]);
  assert.ok(!inspect({ store, warnings }, { depth: Infinity }).includes('wrong-secret'));
  // The right password works, within the recommended ACL: reads, writes, locks, deletes.
  const rightWarnings: string[] = [];
  const right = new RedisTokenStore({ redis: guarded.url, warn: (message) => rightWarnings.push(message) });
  t.after(() => right.close());
  await right.withLock(KEY, () => right.set(KEY, credentials('ok')));
  assert.equal((await right.get(KEY))?.accessToken, 'SECRET-ACCESS-ok');
  await right.compareAndDelete(KEY, 'SECRET-ACCESS-ok');
  await right.delete(KEY);
  assert.deepEqual(rightWarnings, []);
  // Keys outside the ACL's pattern: refused, with a warning that says so.
  const outsideWarnings: string[] = [];
  const outside = new RedisTokenStore({ redis: guarded.url, prefix: 'elsewhere:', warn: (message) => outsideWarnings.push(message) });
  t.after(() => outside.close());
  assert.equal(await outside.get(KEY), undefined);
  assert.deepEqual(outsideWarnings, [
    `flyte-grpc-auth: the Redis token store redis://fleet@127.0.0.1:${guarded.port} is unavailable (it denied a command or key of the store, see the ACL in docs/fleet.md: NOPERM this user has no permissions to access one of the keys used as arguments); this process fetches its own tokens until Redis answers again.`,
  ]);
});

test('a passed ioredis instance is used as it is and left open by close()', async (t) => {
  const client = new Redis(server.url, { lazyConnect: true });
  t.after(() => client.disconnect());
  const store = new RedisTokenStore({ redis: client, prefix: 'instance:' });
  assert.equal(store.description, `redis://127.0.0.1:${server.port}`);
  await store.set(KEY, credentials('instance'));
  assert.equal((await store.get(KEY))?.accessToken, 'SECRET-ACCESS-instance');
  await store.close();
  assert.equal(await client.ping(), 'PONG');
});

test('Redis Cluster: value and lock share a slot; reads, writes, compare-and-delete and locks work through an ioredis Cluster', async (t) => {
  const node = await startRedisServer({ cluster: true });
  t.after(() => node.close());
  const cluster = new Cluster([{ host: '127.0.0.1', port: node.port }], { lazyConnect: true });
  t.after(() => cluster.disconnect());
  await cluster.connect();
  const store = new RedisTokenStore({ redis: cluster, encryptionKey: KEY_BYTES });
  assert.equal(store.description, `Redis Cluster (127.0.0.1:${node.port})`);
  // Keys whose endpoints hash to different slots, each with its lock in its own slot.
  for (const key of [KEY, tokenStoreKey('other.example.com', 'x{y}', 'pkce')]) {
    const nodeClient = await node.raw();
    const valueSlot = await nodeClient.call('CLUSTER', 'KEYSLOT', store.redisKey(key));
    assert.equal(await nodeClient.call('CLUSTER', 'KEYSLOT', `${store.redisKey(key)}:lock`), valueSlot);
    const stored = await store.withLock(key, async () => {
      await store.set(key, credentials('cluster'));
      return store.get(key);
    });
    assert.equal(stored?.accessToken, 'SECRET-ACCESS-cluster');
    await store.compareAndDelete(key, 'SECRET-ACCESS-cluster');
    assert.equal(await store.get(key), undefined);
  }
});

test('ioredis is loaded neither by the main entry, nor by flyte-grpc-auth/redis, nor for a passed instance: only for a URL', () => {
  const script = `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const loaded = () => Object.keys(require.cache).some((path) => path.includes('/node_modules/ioredis/'));
    const seen = [];
    await import('./src/index.ts');
    const { RedisTokenStore } = await import('./src/redis.ts');
    seen.push(loaded());
    // Anything with evalsha passes for an instance; it answers that nothing is stored.
    const instance = { status: 'ready', evalsha: async () => ['none'], eval: async () => ['none'] };
    seen.push(await new RedisTokenStore({ redis: instance }).get('k'), loaded());
    const store = new RedisTokenStore({ redis: 'redis://127.0.0.1:1', warn: () => {} });
    await store.get('k');
    seen.push(loaded());
    console.log(JSON.stringify(seen));`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout.trim()), [false, null, false, true]);
});

test('a program that never closes its store still exits: the connection does not keep it alive', () => {
  const script = `
    const { RedisTokenStore } = await import('./src/redis.ts');
    const store = new RedisTokenStore({ redis: ${JSON.stringify(server.url)}, prefix: 'exit:' });
    await store.set('k', { accessToken: 'a', expiresAt: Date.now() + 60000, forEndpoint: 'e' });
    await store.withLock('k', async () => store.get('k'));
    console.log((await store.get('k')).accessToken);`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.signal, null, 'it had to be killed');
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), 'a');
});

test('durations beyond what timers can hold are capped (2^31-1 ms), not turned into 1 ms', async (t) => {
  const { store, prefix } = newStore(t, { lockTtlMs: Number.MAX_SAFE_INTEGER, lockWaitMs: 1e300, operationTimeoutMs: 1e15 });
  const ttl = await store.withLock(KEY, () => raw.pttl(`${prefix}{${KEY}}:lock`));
  assert.ok(ttl > 2_147_483_647 - 60_000 && ttl <= 2_147_483_647, String(ttl));
  await store.set(KEY, credentials('capped'));
  assert.equal((await store.get(KEY))?.accessToken, 'SECRET-ACCESS-capped');
});

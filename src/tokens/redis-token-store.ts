import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import { AuthenticationError } from '../errors.js';
import type { Credentials } from './credentials.js';
import { RedisConnection, RedisUnavailableError } from './redis-connection.js';
import { DELETE_SCRIPT, DISCARD_SCRIPT, LOCK_SCRIPT, READ_SCRIPT, RENEW_SCRIPT, UNLOCK_SCRIPT, WRITE_SCRIPT, type LuaScript } from './redis-scripts.js';
import { decodeValue, encodeValue, fingerprintOf, MAX_VALUE_BYTES, type ValueProblem } from './redis-value.js';
import { parseEncryptionKey, Sealer, type EncryptionKeyInput } from './sealing.js';
import { isUsable, toStoredCredentials } from './stored-credentials.js';
import type { TokenStore } from './token-store.js';
import { OnceWarner, type WarningListener } from './warn.js';

/** Options of {@link RedisTokenStore}. */
export interface RedisTokenStoreOptions {
  /**
   * The Redis to share tokens in: an ioredis `Redis` (also one set up for Sentinel) or `Cluster` instance, used as it
   * is and closed by you; or a `redis://` / `rediss://` (TLS) URL with ACL user and password
   * (`rediss://flyte:secret@redis.internal:6380/0`), for which the store makes, connects and closes its own client.
   */
  redis: Redis | Cluster | string;
  /** Prepended to every key. Default `'flyte-grpc-auth:'`. No `{` or `}` (the store sets the hash tag itself). */
  prefix?: string | undefined;
  /** A lock whose holder died is free again after this long, in ms (a live holder keeps extending it). Default 10000. */
  lockTtlMs?: number | undefined;
  /** How long `withLock` waits for another process's lock before running without it, in ms. Default: `lockTtlMs`. */
  lockWaitMs?: number | undefined;
  /** Every Redis operation that has not answered after this long counts as failed, in ms. Default 1000. */
  operationTimeoutMs?: number | undefined;
  /**
   * Seals values with AES-256-GCM: 32 bytes, as a `Uint8Array`, 64 hex digits or base64. Every process sharing the
   * tokens needs the same key. Default: none (values are JSON, readable by whoever can read the keys).
   */
  encryptionKey?: EncryptionKeyInput | undefined;
  /** Receives the store's warnings (outage, unreadable value, lock wait given up). Default: `process.emitWarning`. */
  warn?: WarningListener | undefined;
}

const DEFAULT_PREFIX = 'flyte-grpc-auth:';
const MAX_TIMER_MS = 2_147_483_647;
const DAY_MS = 86_400_000;
// Values with a refresh token, or without a known expiry, are dropped after this long without a write.
const MAX_TTL_MS = 30 * DAY_MS;
// A stored expiry further away than this is not trusted to block a write (garbage, or a value planted to block).
const TRUSTED_EXPIRY_MS = 366 * DAY_MS;
const FIRST_POLL_MS = 5;
// Short: waiters hold calls, and a lock holder usually needs only one token request.
const MAX_POLL_MS = 25;
// What #acquire returns when the holder stored a newer token while we waited.
const NEWER_VALUE = Symbol('newer value');

// The locks the current async context holds, so that `withLock` is re-entrant. `active` turns false on release,
// because promises started inside `fn` keep this context after the lock is gone.
interface HeldLock {
  store: RedisTokenStore;
  key: string;
  active: boolean;
  /** The value as the lock script read it, for the holder's first `get` (a round trip saved). */
  read: unknown;
}
const held = new AsyncLocalStorage<readonly HeldLock[]>();

function duration(name: string, value: number | undefined, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
    throw new AuthenticationError(`RedisTokenStore: ${name} must be a number of milliseconds >= ${minimum}`, { code: 'ERR_CONFIG' });
  }
  // Larger values would overflow Node's timers (which then fire after 1 ms).
  return Math.min(Math.ceil(value), MAX_TIMER_MS);
}

function checkPrefix(prefix: string | undefined): string {
  if (prefix === undefined) return DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || /[{}]/.test(prefix) || prefix.length > 256) {
    throw new AuthenticationError('RedisTokenStore: prefix must be a string of at most 256 characters without { or }', { code: 'ERR_CONFIG' });
  }
  return prefix;
}

const PROBLEMS: Record<ValueProblem, string> = {
  garbage: 'is not stored credentials',
  'too-large': `is larger than ${MAX_VALUE_BYTES} bytes`,
  'sealed-without-key': 'is encrypted, but this store has no encryptionKey (give every process the same key)',
  'unsealed-with-key': 'is not encrypted, but this store has an encryptionKey (every process sharing it needs the key)',
  'does-not-open': 'does not open with this encryptionKey (another key, or tampered with)',
};

/**
 * A `TokenStore` in Redis, shared by processes on any number of hosts: one key per endpoint + client id + flow,
 * `<prefix>{<tokenStoreKey>}`, whose value expires with its access token, and a lock beside it in the same Cluster
 * slot (`…:lock`). Writes never replace a token that expires later than the one written. Redis trouble (down, slow,
 * refusing the password) never fails an operation: reads find nothing, writes are skipped, `withLock` runs unlocked,
 * with one warning per outage; sharing resumes when Redis answers again. Import it from `flyte-grpc-auth/redis`.
 *
 * @example
 * const tokenStore = new RedisTokenStore({ redis: process.env.REDIS_URL!, encryptionKey: process.env.TOKEN_KEY });
 * const auth = createPlatformAuth(cfg, { tokenStore });
 */
export class RedisTokenStore implements TokenStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #lockTtlMs: number;
  readonly #lockWaitMs: number;
  readonly #sealer: Sealer | undefined;
  readonly #warner: OnceWarner;

  /** @throws AuthenticationError (`ERR_CONFIG`) for an invalid URL, prefix, duration or encryption key. */
  constructor(options: RedisTokenStoreOptions) {
    this.#prefix = checkPrefix(options.prefix);
    this.#lockTtlMs = duration('lockTtlMs', options.lockTtlMs, 10_000, 1);
    this.#lockWaitMs = duration('lockWaitMs', options.lockWaitMs, this.#lockTtlMs, 0);
    const operationTimeoutMs = duration('operationTimeoutMs', options.operationTimeoutMs, 1_000, 1);
    this.#sealer = options.encryptionKey === undefined ? undefined : new Sealer(parseEncryptionKey(options.encryptionKey));
    this.#warner = new OnceWarner(options.warn);
    this.#connection = new RedisConnection(options.redis, operationTimeoutMs, {
      outage: (reason) => {
        this.#warner.warn(
          'unavailable',
          `flyte-grpc-auth: the Redis token store ${this.description} is unavailable (${reason}); this process fetches ` +
            'its own tokens until Redis answers again.',
        );
      },
      recovered: () => {
        this.#warner.reset('unavailable');
      },
    });
  }

  /** Where the tokens are, for messages: the URL without its password, or the instance's address. */
  get description(): string {
    return this.#connection.description;
  }

  /** The Redis key of the credentials stored under `key` (its lock is this plus `:lock`). */
  redisKey(key: string): string {
    // The braces make the whole token store key the hash tag: a value and its lock share one Cluster slot.
    return `${this.#prefix}{${key}}`;
  }

  async get(key: string): Promise<Credentials | undefined> {
    const redisKey = this.redisKey(key);
    const lock = this.#heldLock(key);
    let reply: unknown;
    if (lock?.read !== undefined) {
      reply = lock.read;
      lock.read = undefined;
    } else {
      reply = await this.#run(READ_SCRIPT, [redisKey], [MAX_VALUE_BYTES]);
    }
    if (!Array.isArray(reply)) return undefined;
    const [status, value] = reply as [unknown, unknown];
    if (status === 'none') return undefined;
    if (status !== 'value' || typeof value !== 'string') {
      this.#warnValue(redisKey, status === 'toolarge' ? 'too-large' : 'garbage');
      return undefined;
    }
    const decoded = decodeValue(redisKey, value, this.#sealer);
    if (decoded.problem) {
      this.#warnValue(redisKey, decoded.problem);
      return undefined;
    }
    return isUsable(decoded.credentials) ? decoded.credentials : undefined;
  }

  /**
   * Stores `credentials` unless the stored ones expire later. The value expires with the access token; with a refresh
   * token (or no known expiry) 30 days after this write. Expired credentials without a refresh token are not stored.
   * Credentials with a refresh token always replace what is there: they come from the latest refresh (made under the
   * lock), and with rotation only the latest refresh token works, whatever its access token's lifetime.
   */
  async set(key: string, credentials: Credentials): Promise<void> {
    this.#forgetRead(key);
    const stored = toStoredCredentials(credentials);
    const now = Date.now();
    if (!isUsable(stored, now)) return;
    const redisKey = this.redisKey(key);
    const lastsMs = stored.refreshToken === undefined && stored.expiresAt !== undefined ? Math.ceil(stored.expiresAt - now) : MAX_TTL_MS;
    const ttlMs = Math.min(Math.max(1, lastsMs), MAX_TTL_MS);
    const value = encodeValue(redisKey, stored, this.#sealer);
    // '' tells the script not to compare.
    const expiresAt = stored.refreshToken === undefined && stored.expiresAt !== undefined ? String(Math.max(0, Math.trunc(stored.expiresAt))) : '';
    await this.#run(WRITE_SCRIPT, [redisKey], [value, expiresAt, String(ttlMs), String(now + TRUSTED_EXPIRY_MS)]);
  }

  async delete(key: string): Promise<void> {
    this.#forgetRead(key);
    await this.#run(DELETE_SCRIPT, [this.redisKey(key)], []);
  }

  async compareAndDelete(key: string, accessToken: string): Promise<void> {
    this.#forgetRead(key);
    await this.#run(DISCARD_SCRIPT, [this.redisKey(key)], [fingerprintOf(accessToken, this.#sealer)]);
  }

  /**
   * Runs `fn` holding the lock `<key's Redis key>:lock` (`SET NX PX lockTtlMs` with a random value, extended while `fn`
   * runs, released only by its holder). Waits at most `lockWaitMs` for another holder; after that, or when Redis is
   * unavailable, `fn` runs without the lock. When the holder stores a token expiring later than the one there when
   * the wait began, the wait ends too: `fn` runs at once (it re-reads the store and finds that token), so the
   * processes waiting behind a refresh all go on together instead of taking the lock one after the other.
   * Re-entrant within `fn`. Rejects only with `fn`'s error. The release is sent when `fn` settles and not waited for.
   */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const outer = held.getStore() ?? [];
    // Re-entrant: waiting for a lock this very call chain holds would only time out.
    if (this.#heldLock(key)) return fn();
    const lockKey = `${this.redisKey(key)}:lock`;
    const token = randomBytes(18).toString('base64url');
    const read = await this.#acquire(lockKey, this.redisKey(key), token);
    if (read === undefined || read === NEWER_VALUE) return fn();
    const mine: HeldLock = { store: this, key, active: true, read };
    const renewal = this.#keepRenewing(lockKey, token);
    try {
      return await held.run([...outer, mine], fn);
    } finally {
      mine.active = false;
      clearInterval(renewal);
      void this.#run(UNLOCK_SCRIPT, [lockKey], [token]);
    }
  }

  /** Closes the client the store made from a URL (a passed instance stays open). Later operations find Redis unavailable. */
  async close(): Promise<void> {
    await this.#connection.close();
  }

  // The lock of this store on `key` the current async context holds, if any.
  #heldLock(key: string): HeldLock | undefined {
    return held.getStore()?.find((lock) => lock.store === this && lock.key === key && lock.active);
  }

  // A value read with the lock is stale once the holder changes it.
  #forgetRead(key: string): void {
    const lock = this.#heldLock(key);
    if (lock) lock.read = undefined;
  }

  // The value as read when the lock was taken; NEWER_VALUE when the holder stored a newer token meanwhile; `undefined`
  // after `lockWaitMs` (one warning) or when Redis is unavailable.
  async #acquire(lockKey: string, valueKey: string, token: string): Promise<unknown> {
    const deadline = Date.now() + this.#lockWaitMs;
    let delay = FIRST_POLL_MS;
    let firstExpiry: number | undefined;
    for (;;) {
      const reply = await this.#run(LOCK_SCRIPT, [lockKey, valueKey], [token, this.#lockTtlMs, MAX_VALUE_BYTES]);
      if (!Array.isArray(reply)) return undefined;
      if (reply[0] !== 0) return reply;
      const expiry = Number(reply[1] || 0);
      firstExpiry ??= expiry;
      if (expiry > firstExpiry) return NEWER_VALUE;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.#warner.warn(
          'lock-wait',
          `flyte-grpc-auth: waited ${this.#lockWaitMs} ms for the lock ${lockKey} in the Redis token store ${this.description}; ` +
            'continuing without it, so this process may fetch a token of its own.',
        );
        return undefined;
      }
      // Jittered so that waiting processes do not poll in lockstep.
      await sleep(Math.min(remaining, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, MAX_POLL_MS);
    }
  }

  // Extends the lock while its holder lives: a slow fetch (retries, a browser login) keeps it; a killed holder stops
  // extending it, and it expires within lockTtlMs.
  #keepRenewing(lockKey: string, token: string): NodeJS.Timeout {
    let renewing = false;
    const timer = setInterval(
      () => {
        if (renewing) return;
        renewing = true;
        void this.#run(RENEW_SCRIPT, [lockKey], [token, this.#lockTtlMs]).finally(() => {
          renewing = false;
        });
      },
      Math.max(1, Math.floor(this.#lockTtlMs / 3)),
    );
    timer.unref();
    return timer;
  }

  // Runs a script; Redis trouble yields `undefined` (reported once per outage by the connection), never an error.
  async #run(script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await this.#connection.run(script, keys, args);
    } catch (error) {
      if (error instanceof RedisUnavailableError) return undefined;
      throw error;
    }
  }

  #warnValue(redisKey: string, problem: ValueProblem): void {
    this.#warner.warn(
      `value:${problem}`,
      `flyte-grpc-auth: the value of ${redisKey} in the Redis token store ${this.description} ${PROBLEMS[problem]}; ` +
        'treating it as absent.',
    );
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { AuthenticationError } from '../errors.js';
import type { LuaScript } from './redis-scripts.js';
import { describeError } from './warn.js';

/** The part of an ioredis `Redis` or `Cluster` the token store calls (so this file needs no ioredis types). */
export interface ScriptingClient {
  readonly status: string;
  evalsha(sha1: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(source: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

// A client this package made from a URL, and therefore connects, watches and closes.
interface OwnedClient extends ScriptingClient {
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error' | 'connect', listener: (error?: unknown) => void): unknown;
  readonly stream?: { unref?: () => void } | undefined;
}

// What an ioredis instance tells about where it connects (for messages; never its password).
interface DescribableClient {
  isCluster?: boolean;
  options?: { host?: string; port?: number; username?: string; db?: number; tls?: unknown; sentinels?: unknown[]; name?: string };
  nodes?: (role?: string) => Array<{ options?: { host?: string; port?: number } }>;
}

/** Why the store could not use Redis for one operation (connection, timeout, refused credentials). */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/** What a {@link RedisConnection} reports: the start of an outage (once) and its end. */
export interface RedisConnectionEvents {
  outage(reason: string): void;
  recovered(): void;
}

// After a failure, operations fail at once for this long before one tries Redis again: a call that needs a token
// during an outage pays for at most one timeout, not one per Redis operation.
const RETRY_AFTER_MS = 1_000;
const GENERIC_CONNECTION_ERROR = /^(Connection is closed|Stream isn't writeable|Connection is already closed)/;

function badTarget(): AuthenticationError {
  return new AuthenticationError('RedisTokenStore: redis must be a redis:// or rediss:// URL, an ioredis Redis or an ioredis Cluster', {
    code: 'ERR_CONFIG',
  });
}

/**
 * `url` with its password removed (and no query string): what messages may show of a Redis URL.
 * @throws AuthenticationError (`ERR_CONFIG`) when `url` is not a `redis://` or `rediss://` URL; the message does not repeat it.
 */
export function redactRedisUrl(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed?.protocol !== 'redis:' && parsed?.protocol !== 'rediss:') throw badTarget();
  const user = parsed.username ? `${parsed.username}@` : '';
  return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

function describeClient(client: DescribableClient): string {
  if (client.isCluster) {
    const nodes = client.nodes?.('master').map((node) => `${node.options?.host ?? '?'}:${node.options?.port ?? '?'}`) ?? [];
    return `Redis Cluster${nodes.length ? ` (${nodes.slice(0, 3).join(', ')}${nodes.length > 3 ? ', …' : ''})` : ''}`;
  }
  const options = client.options ?? {};
  if (options.sentinels?.length) return `Redis Sentinel master ${options.name ?? '?'}`;
  const user = options.username ? `${options.username}@` : '';
  const db = options.db ? `/${options.db}` : '';
  return `${options.tls ? 'rediss' : 'redis'}://${user}${options.host ?? 'localhost'}:${options.port ?? 6379}${db}`;
}

// Rejects when `work` has not settled within `timeoutMs`; the timer is cancelled as soon as either side settles.
async function within<T>(timeoutMs: number, work: Promise<T>): Promise<T> {
  const timer = new AbortController();
  const timeout = sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => {
    throw new RedisUnavailableError(`no answer within ${timeoutMs} ms`);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    timer.abort();
  }
}

/**
 * One Redis (or Cluster) as the token store uses it: runs Lua scripts, each bounded by a timeout; a failure starts an
 * outage (reported once), during which operations fail at once except one retry per second, until one succeeds.
 * A URL gets its own ioredis client (loaded at once, connected on first use); a passed instance is used as it is.
 */
export class RedisConnection {
  readonly #target: ScriptingClient | undefined;
  readonly #url: string | undefined;
  readonly #redactedUrl: string | undefined;
  readonly #timeoutMs: number;
  readonly #events: RedisConnectionEvents;
  readonly #owned: Promise<OwnedClient> | undefined;
  #connecting: Promise<void> | undefined;
  #lastClientError: unknown;
  #down = false;
  #probing = false;
  #retryAt = 0;
  #closed = false;

  constructor(target: string | object, timeoutMs: number, events: RedisConnectionEvents) {
    if (typeof target === 'string') {
      this.#redactedUrl = redactRedisUrl(target);
      this.#url = target;
      // Loading ioredis is local work that can take a while in a busy process: it starts now and is not counted
      // against the first operation's timeout (connecting and the command are).
      this.#owned = this.#createClient(timeoutMs);
      this.#owned.catch(() => undefined);
    } else if (typeof target === 'object' && target !== null && typeof (target as Partial<ScriptingClient>).evalsha === 'function') {
      this.#target = target as ScriptingClient;
    } else {
      throw badTarget();
    }
    this.#timeoutMs = timeoutMs;
    this.#events = events;
  }

  /** Where the store keeps tokens, for messages: the URL without its password, or the instance's address. */
  get description(): string {
    return this.#redactedUrl ?? describeClient(this.#target as DescribableClient);
  }

  /**
   * Runs `script` on `keys` with `args`.
   * @throws RedisUnavailableError when Redis did not answer in time, refused, or is in an outage.
   */
  async run(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    if (this.#closed) throw new RedisUnavailableError('the store is closed');
    if (this.#down && (this.#probing || Date.now() < this.#retryAt)) throw new RedisUnavailableError('Redis is unavailable');
    const probe = this.#down;
    if (probe) this.#probing = true;
    try {
      const client = this.#target ?? (await this.#owned!);
      const result = await within(this.#timeoutMs, this.#execute(client, script, keys, args));
      this.#lastClientError = undefined;
      if (this.#down) {
        this.#down = false;
        this.#events.recovered();
      }
      return result;
    } catch (error) {
      const reason = this.#reason(error);
      this.#retryAt = Date.now() + RETRY_AFTER_MS;
      if (!this.#down) {
        this.#down = true;
        this.#events.outage(reason);
      }
      // No `cause`: ioredis errors carry the command's arguments, which may hold a token.
      throw new RedisUnavailableError(reason);
    } finally {
      if (probe) this.#probing = false;
    }
  }

  /** Closes the client this connection made from a URL; a passed instance is the caller's to close. */
  async close(): Promise<void> {
    this.#closed = true;
    const owned = this.#owned;
    if (!owned) return;
    const client = await owned.catch(() => undefined);
    if (!client) return;
    try {
      await within(this.#timeoutMs, client.quit());
    } catch {
      client.disconnect();
    }
  }

  async #execute(client: ScriptingClient, script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    if (!this.#target) await this.#connect(client as OwnedClient);
    try {
      return await client.evalsha(script.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      // Redis forgets scripts on restart (and a new server never saw them): send the source once more.
      if (!describeError(error).startsWith('NOSCRIPT')) throw error;
      return client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  // Our client never reconnects on its own (no timers keeping the process alive): it connects when it is needed.
  async #connect(client: OwnedClient): Promise<void> {
    if (client.status === 'wait' || client.status === 'end') {
      this.#connecting ??= client.connect().finally(() => {
        this.#connecting = undefined;
      });
    }
    if (this.#connecting) await this.#connecting;
  }

  async #createClient(timeoutMs: number): Promise<OwnedClient> {
    // Loaded only for a URL: programs that never use Redis, or pass their own instance, never load ioredis here.
    let Redis: typeof import('ioredis').Redis;
    try {
      ({ Redis } = await import('ioredis'));
    } catch (error) {
      throw new RedisUnavailableError(`cannot load ioredis (${describeError(error)}); install it: npm install ioredis`);
    }
    const client = new Redis(this.#url as string, {
      lazyConnect: true,
      // Fail at once while disconnected (instead of queueing), never retry a command on another connection, and give
      // up on a command after the store's own timeout: a down Redis must cost a call nothing but a fetch of its own.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      retryStrategy: () => null,
      // The ready check sends INFO, which a user limited to the store's commands may not run (ioredis then logs).
      enableReadyCheck: false,
    }) as unknown as OwnedClient;
    client.on('error', (error) => {
      this.#lastClientError = error;
    });
    // The connection alone must not keep a finished program alive: a token cache is no reason to stay.
    client.on('connect', () => client.stream?.unref?.());
    return client;
  }

  #reason(error: unknown): string {
    let reason = describeError(error);
    if (GENERIC_CONNECTION_ERROR.test(reason)) {
      // ioredis says only "Connection is closed." for a refused connection or password: its error event said why.
      reason = this.#lastClientError === undefined ? 'the connection was closed' : describeError(this.#lastClientError);
    }
    if (/^(WRONGPASS|NOAUTH)/.test(reason)) return `it refused the credentials: ${reason}`;
    if (/^NOPERM/.test(reason)) return `it denied a command or key of the store, see the ACL in docs/fleet.md: ${reason}`;
    return reason;
  }
}

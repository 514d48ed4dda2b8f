import { publishStoreEvent } from '../diagnostics/store-events.js';
import type { Credentials } from './credentials.js';
import { FileTokenStore } from './file-token-store.js';
import { isUsable, parseStoredCredentials, toStoredCredentials } from './stored-credentials.js';
import type { TokenStore } from './token-store.js';
import { validateAccessToken } from './validate.js';
import { raceWithSignal, setLongTimeout } from '../time/long-delay.js';
import { describeError, OnceWarner, type WarningListener } from './warn.js';

/**
 * One keychain item, as `@napi-rs/keyring`'s `Entry` (synchronous) or `AsyncEntry` (promises) exposes it.
 * `getPassword` answers `null`/`undefined` when there is no item.
 */
export interface KeyringEntry {
  getPassword(): string | null | undefined | Promise<string | null | undefined>;
  setPassword(password: string): unknown;
  deletePassword(): unknown;
}

/** What a keyring module must export: `@napi-rs/keyring`'s `Entry` and, preferably, `AsyncEntry`. */
export interface KeyringModule {
  Entry: new (service: string, account: string) => KeyringEntry;
  AsyncEntry?: new (service: string, account: string) => KeyringEntry;
}

/** Options of {@link KeyringTokenStore}. */
export interface KeyringTokenStoreOptions {
  /** The keychain service name; each key is one item (account) under it. Default `flyte-grpc-auth`. */
  service?: string | undefined;
  /** Where credentials go when the keychain cannot be used. Default: a `FileTokenStore` at its default path. */
  fallback?: TokenStore | undefined;
  /** Receives the one-time "keyring not available" warning. Default: `process.emitWarning`. */
  warn?: WarningListener | undefined;
  /** A keychain call that has not answered after this many ms counts as failed (a hidden unlock prompt). Default 30000. */
  timeoutMs?: number | undefined;
  /** Loads the keyring module. Default: `import('@napi-rs/keyring')`. Tests and embedders pass their own. */
  loadKeyring?: (() => Promise<KeyringModule>) | undefined;
}

const DEFAULT_SERVICE = 'flyte-grpc-auth';
// A variable specifier: the package is an optional dependency, so neither TypeScript nor a bundler may insist on it.
const KEYRING_PACKAGE: string = '@napi-rs/keyring';

function isConstructor(value: unknown): value is new (service: string, account: string) => KeyringEntry {
  return typeof value === 'function';
}

/** Imports `@napi-rs/keyring`; rejects when it is missing, its native binary does not load, or it looks wrong. */
export async function loadNapiKeyring(): Promise<KeyringModule> {
  const loaded: unknown = await import(KEYRING_PACKAGE);
  // Node exposes a CommonJS module's exports both as named exports and as `default`.
  const candidates = [loaded, (loaded as { default?: unknown } | null)?.default];
  for (const candidate of candidates) {
    const exports = candidate as { Entry?: unknown; AsyncEntry?: unknown } | null | undefined;
    if (exports && isConstructor(exports.Entry)) {
      return isConstructor(exports.AsyncEntry) ? { Entry: exports.Entry, AsyncEntry: exports.AsyncEntry } : { Entry: exports.Entry };
    }
  }
  throw new Error(`${KEYRING_PACKAGE} does not export Entry`);
}

// Thrown by keyring backends for a missing item: that is an answer, not a broken keyring.
const NO_ENTRY = /no (matching )?entry|not found/i;

/**
 * A `TokenStore` in the OS keychain (macOS Keychain, Windows Credential Manager, Secret Service on Linux) through the
 * optional native dependency `@napi-rs/keyring`, loaded on first use: one item per key, holding the credentials as
 * JSON. The first keyring failure of any kind (module missing, no keychain service, locked keychain, dismissed
 * prompt, item too large, a call that hangs) sends this store to its fallback for the rest of its life, with one
 * warning; reads that find no keychain item also look in the fallback. `withLock` is the fallback's.
 */
export class KeyringTokenStore implements TokenStore {
  /** The keychain service name. */
  readonly service: string;
  /** Where credentials go when the keychain cannot be used. */
  readonly fallback: TokenStore;
  readonly #warner: OnceWarner;
  readonly #timeoutMs: number;
  readonly #loadKeyring: () => Promise<KeyringModule>;
  #keyring: Promise<KeyringModule | undefined> | undefined;
  #failed = false;

  constructor(options: KeyringTokenStoreOptions = {}) {
    this.service = options.service || DEFAULT_SERVICE;
    this.#warner = new OnceWarner(options.warn);
    this.fallback = options.fallback ?? new FileTokenStore({ warn: options.warn });
    this.#timeoutMs = Math.max(1, options.timeoutMs ?? 30_000);
    this.#loadKeyring = options.loadKeyring ?? loadNapiKeyring;
  }

  /** Whether the keychain has failed and this store now uses only its fallback. */
  get usingFallback(): boolean {
    return this.#failed;
  }

  /**
   * @throws AuthenticationError (`ERR_BAD_TOKEN_RESPONSE`, naming the keychain item) when the item's access token
   *   cannot be sent (a space, a line break, a non-ASCII character, over 16 KiB).
   */
  async get(key: string): Promise<Credentials | undefined> {
    const found = await this.#call(key, 'read', async (entry) => entry.getPassword());
    if (typeof found === 'string') {
      const credentials = parseJson(found);
      if (credentials) {
        if (!isUsable(credentials)) return undefined;
        const item = `the OS keychain item ${key} (service ${this.service})`;
        validateAccessToken(credentials.accessToken, item, item);
        return credentials;
      }
    }
    // No item (or an unusable one): credentials may sit in the fallback from a time the keychain failed.
    return this.fallback.get(key);
  }

  async set(key: string, credentials: Credentials): Promise<void> {
    const value = JSON.stringify(toStoredCredentials(credentials));
    const stored = await this.#call(key, 'write', async (entry) => {
      await entry.setPassword(value);
      return true;
    });
    if (stored === true) {
      // A copy left in the fallback by an earlier failure would be a stale token on disk: remove it.
      await this.fallback.delete(key).catch(() => undefined);
      return;
    }
    await this.fallback.set(key, credentials);
  }

  async delete(key: string): Promise<void> {
    await this.#call(key, 'delete', async (entry) => {
      try {
        await entry.deletePassword();
      } catch (error) {
        if (!NO_ENTRY.test(describeError(error))) throw error;
      }
      return true;
    });
    await this.fallback.delete(key);
  }

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    return this.fallback.withLock ? this.fallback.withLock(key, fn) : fn();
  }

  /** Runs one keychain operation; `undefined` once the keychain has failed (now or before). */
  async #call<T>(key: string, what: string, operation: (entry: KeyringEntry) => Promise<T>): Promise<T | undefined> {
    if (this.#failed) return undefined;
    const keyring = await this.#module();
    if (!keyring) return undefined;
    // A native call cannot be cancelled: past the timeout its answer is dropped (a hidden unlock prompt, say). The
    // timer is not unref'd: while a keychain call is pending the caller is waiting for it; it is cleared right after.
    const timeout = new AbortController();
    const cancelTimer = setLongTimeout(() => timeout.abort(new Error(`the keychain did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    try {
      const Entry = keyring.AsyncEntry ?? keyring.Entry;
      return await raceWithSignal((async () => operation(new Entry(this.service, key)))(), timeout.signal);
    } catch (error) {
      this.#fail(`could not ${what} the OS keychain item (${describeError(error)})`);
      return undefined;
    } finally {
      cancelTimer();
    }
  }

  async #module(): Promise<KeyringModule | undefined> {
    this.#keyring ??= this.#loadKeyring().catch((error: unknown) => {
      this.#fail(`could not load ${KEYRING_PACKAGE} (${describeError(error)})`);
      return undefined;
    });
    return this.#keyring;
  }

  #fail(reason: string): void {
    publishStoreEvent('keyring', 'fallback', 0, reason);
    this.#failed = true;
    const where = this.fallback instanceof FileTokenStore ? `the file ${this.fallback.path}` : 'the fallback store';
    this.#warner.warn(
      'keyring',
      `flyte-grpc-auth: the OS keyring is not available: ${reason}. Credentials are kept in ${where} instead. ` +
        'Set disableKeyring to use the file without trying the keyring (for example over SSH or in containers).',
    );
  }
}

function parseJson(text: string): Credentials | undefined {
  try {
    return parseStoredCredentials(JSON.parse(text));
  } catch {
    return undefined;
  }
}

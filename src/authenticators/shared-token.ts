import type { Credentials } from '../tokens/credentials.js';
import type { TokenStore } from '../tokens/token-store.js';
import { describeError, OnceWarner, type WarningListener } from '../tokens/warn.js';
import type { RefreshReason } from './refresh-reason.js';

/** One request for credentials that other processes may already have fetched. */
export interface SharedTokenRequest {
  /** The store key (endpoint + client id + flow). */
  key: string;
  /** The credentials being replaced, if any. */
  previous: Credentials | undefined;
  reason: RefreshReason;
  /** Whether stored credentials are worth using (valid beyond the refresh window). */
  isFresh: (credentials: Credentials) => boolean;
  /** Fetches new credentials from the identity provider. */
  fetch: () => Promise<Credentials>;
}

/**
 * Fetch-or-share for flows whose tokens any process may fetch (client credentials): read the store and use a fresh
 * token found there; else take the store's lock, read again, fetch, write. A token the server rejected is removed
 * from the store first (compare-and-delete), so that one process refreshes for all. A broken store costs a fetch,
 * never a call: its failures are reported once and otherwise ignored.
 */
export class SharedToken {
  readonly #store: TokenStore;
  readonly #warner: OnceWarner;

  constructor(store: TokenStore, warn?: WarningListener) {
    this.#store = store;
    this.#warner = new OnceWarner(warn);
  }

  async obtain(request: SharedTokenRequest): Promise<Credentials> {
    const { key, previous, reason } = request;
    if (reason === 'rejected' && previous) await this.#discard(key, previous.accessToken);
    // Only a token other than the one being replaced is progress: the same one would be refreshed again and again.
    const usable = (stored: Credentials | undefined): stored is Credentials =>
      stored !== undefined && stored.accessToken !== previous?.accessToken && request.isFresh(stored);
    const stored = await this.#read(key);
    if (usable(stored)) return stored;

    const fetchUnlessShared = async (): Promise<Credentials> => {
      // Whoever held the lock before us may have fetched already.
      const again = await this.#read(key);
      if (usable(again)) return again;
      const credentials = await request.fetch();
      await this.#write(key, credentials);
      return credentials;
    };
    const withLock = this.#store.withLock?.bind(this.#store);
    if (!withLock) return fetchUnlessShared();
    let entered = false;
    let obtained: Credentials | undefined;
    try {
      return await withLock(key, async () => {
        entered = true;
        obtained = await fetchUnlessShared();
        return obtained;
      });
    } catch (error) {
      // A lock that failed before or after the fetch only costs the sharing; the fetch's own failure propagates.
      if (obtained) return obtained;
      if (entered) throw error;
      this.#warn('lock', error);
      return fetchUnlessShared();
    }
  }

  async #read(key: string): Promise<Credentials | undefined> {
    try {
      return await this.#store.get(key);
    } catch (error) {
      this.#warn('read', error);
      return undefined;
    }
  }

  async #write(key: string, credentials: Credentials): Promise<void> {
    try {
      await this.#store.set(key, credentials);
    } catch (error) {
      this.#warn('write', error);
    }
  }

  async #discard(key: string, accessToken: string): Promise<void> {
    try {
      if (this.#store.compareAndDelete) {
        await this.#store.compareAndDelete(key, accessToken);
        return;
      }
      // Not atomic, but a store without compare-and-delete offers nothing better.
      if ((await this.#store.get(key))?.accessToken === accessToken) await this.#store.delete(key);
    } catch (error) {
      this.#warn('delete', error);
    }
  }

  #warn(operation: 'read' | 'write' | 'delete' | 'lock', error: unknown): void {
    this.#warner.warn(operation, `flyte-grpc-auth: cannot ${operation} the shared token in the token store (${describeError(error)}); fetching without it.`);
  }
}

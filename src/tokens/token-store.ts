import type { Credentials } from './credentials.js';

/**
 * Where credentials outlive one authenticator (and, for file and keyring stores, one process). Keys come from
 * {@link tokenStoreKey}, so two configurations never share a token.
 */
export interface TokenStore {
  /**
   * The credentials stored under `key` (a copy), or `undefined`. The file and keychain stores reject with
   * `ERR_BAD_TOKEN_RESPONSE` when the stored access token cannot be sent (see `validateAccessToken`).
   */
  get(key: string): Promise<Credentials | undefined>;
  /** Stores a copy of `credentials` under `key`, replacing what was there. */
  set(key: string, credentials: Credentials): Promise<void>;
  /** Removes what is stored under `key`; a missing key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Removes what is stored under `key` only if it still holds `accessToken` (a token the server refused), in one step:
   * a newer token another process stored meanwhile stays. Optional; without it, authenticators read, compare and
   * `delete`.
   */
  compareAndDelete?(key: string, accessToken: string): Promise<void>;
  /**
   * Runs `fn` while holding a lock on `key` that other processes sharing the store respect, so that two processes
   * refreshing at once take turns: the second one, once inside, re-reads the store and finds the first one's
   * credentials (and does not spend a rotated refresh token twice). Re-entrant within `fn`. Absent for stores that
   * live in one process only.
   */
  withLock?<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

// `|` separates the parts; escaping it (and the escape character) keeps keys injective for any endpoint or client id
// while the usual keys stay readable (`flyte.example.com:443|flytectl|pkce`), e.g. in a keychain browser.
function keyPart(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('|', '%7C');
}

/** The cache key of one endpoint + client id + flow; different triples never give the same key. */
export function tokenStoreKey(endpoint: string, clientId: string | undefined, flow: string): string {
  return `${keyPart(endpoint)}|${keyPart(clientId ?? '')}|${keyPart(flow)}`;
}

/** A `TokenStore` that lives as long as the process. */
export class MemoryTokenStore implements TokenStore {
  readonly #entries = new Map<string, Credentials>();

  async get(key: string): Promise<Credentials | undefined> {
    const credentials = this.#entries.get(key);
    return credentials && { ...credentials };
  }

  async set(key: string, credentials: Credentials): Promise<void> {
    this.#entries.set(key, { ...credentials });
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}

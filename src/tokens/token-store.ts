import type { Credentials } from './credentials.js';

/**
 * Where credentials outlive one authenticator (and, for file and keyring stores, one process). Keys come from
 * {@link tokenStoreKey}, so two configurations never share a token.
 */
export interface TokenStore {
  get(key: string): Promise<Credentials | undefined>;
  set(key: string, credentials: Credentials): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The cache key of one endpoint + client id + flow. */
export function tokenStoreKey(endpoint: string, clientId: string | undefined, flow: string): string {
  return `${endpoint}|${clientId ?? ''}|${flow}`;
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

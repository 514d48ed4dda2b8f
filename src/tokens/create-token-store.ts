import { FileTokenStore } from './file-token-store.js';
import { KeyringTokenStore, type KeyringModule } from './keyring-token-store.js';
import type { TokenStore } from './token-store.js';
import type { WarningListener } from './warn.js';

/** Options of {@link createTokenStore}. */
export interface CreateTokenStoreOptions {
  /** Use only the token file, never the OS keychain (`admin.disableKeyring`). Default `false`. */
  disableKeyring?: boolean | undefined;
  /** The token file (the store itself, or the keychain's fallback). Default: `<user config dir>/flyte-grpc-auth/tokens.json`. */
  path?: string | undefined;
  /** The keychain service name. Default `flyte-grpc-auth`. */
  service?: string | undefined;
  /** Receives the one-time warnings of both stores. Default: `process.emitWarning`. */
  warn?: WarningListener | undefined;
  /** Loads the keyring module. Default: `import('@napi-rs/keyring')`. */
  loadKeyring?: (() => Promise<KeyringModule>) | undefined;
}

/**
 * The persistent store interactive logins use: the OS keychain with the token file as its fallback, or the token file
 * alone when `disableKeyring` is set.
 */
export function createTokenStore(options: CreateTokenStoreOptions = {}): TokenStore {
  const file = new FileTokenStore({ path: options.path, warn: options.warn });
  if (options.disableKeyring) return file;
  return new KeyringTokenStore({ service: options.service, fallback: file, warn: options.warn, loadKeyring: options.loadKeyring });
}

import type { ClientConfigStore } from '../flyte/client-config.js';
import { AuthenticationError } from '../errors.js';
import type { Credentials } from '../tokens/credentials.js';
import { computeExpiresAt } from '../tokens/expiry.js';
import { Authenticator } from './authenticator.js';

/** Default time a token command may run before it is stopped. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;

export interface CommandAuthenticatorOptions {
  /** The command and its arguments (argv, run without a shell). Its trimmed stdout is the token. */
  command: readonly string[];
  /** The metadata key for the token. Default: the config store's header key, else `authorization`. */
  headerKey?: string | undefined;
  /**
   * Where the header key comes from when `headerKey` is not given (flytekit sends the token under the server's
   * `authorization_metadata_key`). Read once, before the command first runs.
   */
  cfgStore?: ClientConfigStore | undefined;
  /** The command is stopped, with everything it started, after this many milliseconds. Default 60000. */
  timeoutMs?: number | undefined;
  /** The endpoint the token is for (recorded in the credentials). Default `''`. */
  endpoint?: string | undefined;
  /**
   * How long before a JWT's `exp` the command runs again in the background (calls go on with the current token).
   * Default: the smaller of 60 s and 10% of the lifetime.
   */
  refreshWindowMs?: number | undefined;
  /** How long before a JWT's `exp` calls wait for the new token instead. Default: the smaller of 10 s and 5% of the lifetime. */
  expiryMarginMs?: number | undefined;
  /** How error messages name the command. Default `command` (the proxy authenticator says `proxy command`). */
  label?: string | undefined;
}

/**
 * flytekit's `CommandAuthenticator` (`ExternalCommand` auth mode, and `proxyCommand`): an external program prints
 * the token. It runs before the first call, again whenever the token is rejected (so an expired token costs one
 * rejected call), and, when the token is a JWT, shortly before its `exp`.
 */
export class CommandAuthenticator extends Authenticator {
  readonly #command: readonly string[];
  readonly #timeoutMs: number;
  readonly #label: string;
  #headerKeySource: ClientConfigStore | undefined;

  constructor(options: CommandAuthenticatorOptions) {
    const command = [...(options.command ?? [])];
    if (command.length === 0 || !command[0]) {
      throw new AuthenticationError('Command cannot be empty for command authenticator', { code: 'ERR_CONFIG' });
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new AuthenticationError(`Command timeout must be a positive number of milliseconds, got ${timeoutMs}`, { code: 'ERR_CONFIG' });
    }
    super({
      endpoint: options.endpoint ?? '',
      headerKey: options.headerKey,
      refreshWindowMs: options.refreshWindowMs,
      expiryMarginMs: options.expiryMarginMs,
    });
    this.#command = command;
    this.#timeoutMs = timeoutMs;
    this.#label = options.label || 'command';
    if (!options.headerKey) this.#headerKeySource = options.cfgStore;
  }

  /** The command as configured (argv). */
  get command(): readonly string[] {
    return this.#command;
  }

  // The proxy authenticator is a command authenticator whose token goes out as `proxy-authorization`.
  protected override get flow(): string {
    return this.headerKey === 'proxy-authorization' ? 'proxyCommand' : 'externalCommand';
  }

  protected override async obtainCredentials(): Promise<Credentials> {
    if (this.#headerKeySource) {
      this.setHeaderKey((await this.#headerKeySource.getClientConfig()).headerKey, `the client config of ${this.endpoint || 'the endpoint'} (the server's authorization_metadata_key)`);
      this.#headerKeySource = undefined;
    }
    // node:child_process loads with the first command run, not with the package.
    const { runTokenCommand } = await import('./token-command.js');
    const accessToken = await runTokenCommand(this.#command, { timeoutMs: this.#timeoutMs, label: this.#label });
    const credentials: Credentials = { accessToken, forEndpoint: this.endpoint };
    // Opaque tokens have no expiry we can read: they are replaced when the server rejects them.
    const expiresAt = computeExpiresAt(accessToken, undefined);
    if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
    return credentials;
  }
}

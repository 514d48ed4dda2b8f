import { AuthenticationError } from '../errors.js';
import { emitProcessWarning, type WarningListener } from '../tokens/warn.js';
import {
  AUTH_METADATA_SERVICE,
  AUTH_METADATA_SERVICE_V2,
  type AuthMetadataRpc,
  type AuthMetadataTransport,
  type OAuth2Metadata,
  type PublicClientConfig,
} from './auth-metadata.js';
import type { ClientConfig, ClientConfigStore } from './client-config.js';

/** Default deadline of each `AuthMetadataService` call. */
export const DEFAULT_REMOTE_CONFIG_TIMEOUT_MS = 10_000;
// setTimeout (behind AbortSignal.timeout) fires after 1 ms for anything longer.
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Local values that win over what the server publishes. An empty string or an empty list counts as unset, so the
 * server's value is used.
 */
export interface RemoteClientConfigOverrides {
  clientId?: string | undefined;
  scopes?: readonly string[] | undefined;
  audience?: string | undefined;
  /** The gRPC metadata key for the token (flytectl `admin.authorizationHeader`). */
  headerKey?: string | undefined;
  /** The token endpoint (flytectl `admin.tokenUrl`). */
  tokenEndpoint?: string | undefined;
  redirectUri?: string | undefined;
}

/** Options of {@link AuthMetadataClientConfigStore}. */
export interface AuthMetadataClientConfigStoreOptions {
  /** How the two calls reach the server (grpc-js, Connect, …). */
  transport: AuthMetadataTransport;
  /**
   * Ask only this service (e.g. `flyteidl2.auth.AuthMetadataService`). Default: Flyte 1's
   * `flyteidl.service.AuthMetadataService`, and on `UNIMPLEMENTED` Flyte 2's; the one that answered is remembered.
   */
  serviceName?: string | undefined;
  /** Deadline of each call, in milliseconds. Default 10 000. */
  timeoutMs?: number | undefined;
  /** Local values that win over the server's. */
  overrides?: RemoteClientConfigOverrides | undefined;
  /**
   * `false` asks only `GetPublicClientConfig` (the token endpoint is local and nothing else of the OAuth2 metadata is
   * needed: client credentials with flytectl's `admin.tokenUrl`). Needs `overrides.tokenEndpoint`. Default `true`.
   */
  askOAuth2Metadata?: boolean | undefined;
  /**
   * Whether the server's audience is used when none is set locally. Default `true`. `false` keeps the audience local
   * (flytectl's rule with a local `admin.tokenUrl` and without `useAudienceFromAdmin`: that identity provider may not
   * be the server's).
   */
  audienceFromServer?: boolean | undefined;
  /** Receives the warning when the server serves no `AuthMetadataService` and local values are used. */
  warn?: WarningListener | undefined;
}

interface Answers {
  metadata: OAuth2Metadata;
  publicConfig: PublicClientConfig;
}

// proto3 sends no difference between "unset" and "": both mean absent.
function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function presentList(values: readonly string[] | undefined): string[] | undefined {
  const kept = (values ?? []).map((value) => value.trim()).filter(Boolean);
  return kept.length > 0 ? kept : undefined;
}

function copy(config: ClientConfig): ClientConfig {
  return config.scopes ? { ...config, scopes: [...config.scopes] } : { ...config };
}

/**
 * A `ClientConfigStore` that asks the Flyte server (`AuthMetadataService`: `GetOAuth2Metadata` and
 * `GetPublicClientConfig`, both anonymous) where and how to get tokens, like flytekit's `RemoteClientConfigStore`,
 * over any {@link AuthMetadataTransport}.
 *
 * - The two calls run in parallel, each with a deadline; the answer is memoised (concurrent callers share one fetch),
 *   a failure is not (the next call asks again, unlike the Go client's `sync.Once`).
 * - Flyte 1 and Flyte 2 are both found: `flyteidl.service.AuthMetadataService` first, on `UNIMPLEMENTED`
 *   `flyteidl2.auth.AuthMetadataService`; the generation that answered is asked first from then on.
 * - Empty proto3 strings and lists mean "absent"; local `overrides` win over the server for client id, scopes,
 *   audience, header key, token endpoint and redirect URI.
 * - A server that serves neither service, with a local token endpoint: the local values are used, with one warning.
 */
export class AuthMetadataClientConfigStore implements ClientConfigStore {
  readonly #transport: AuthMetadataTransport;
  readonly #forced: string | undefined;
  readonly #timeoutMs: number;
  readonly #overrides: RemoteClientConfigOverrides;
  readonly #askOAuth2Metadata: boolean;
  readonly #audienceFromServer: boolean;
  readonly #warn: WarningListener;
  #found: string | undefined;
  #pending: Promise<ClientConfig> | undefined;

  constructor(options: AuthMetadataClientConfigStoreOptions) {
    const { transport } = options;
    const timeoutMs = options.timeoutMs ?? DEFAULT_REMOTE_CONFIG_TIMEOUT_MS;
    if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
      throw new AuthenticationError(`the client config timeoutMs must be between 1 and ${MAX_TIMEOUT_MS}, got ${timeoutMs}`, {
        code: 'ERR_CONFIG',
        endpoint: transport.endpoint,
      });
    }
    this.#overrides = options.overrides ?? {};
    this.#askOAuth2Metadata = options.askOAuth2Metadata ?? true;
    this.#audienceFromServer = options.audienceFromServer ?? true;
    if (!this.#askOAuth2Metadata && !present(this.#overrides.tokenEndpoint)) {
      throw new AuthenticationError('askOAuth2Metadata: false needs a local token endpoint (overrides.tokenEndpoint)', {
        code: 'ERR_CONFIG',
        endpoint: transport.endpoint,
      });
    }
    this.#transport = transport;
    this.#forced = present(options.serviceName);
    this.#timeoutMs = timeoutMs;
    this.#warn = options.warn ?? emitProcessWarning;
  }

  /** The server, as the transport names it. */
  get endpoint(): string {
    return this.#transport.endpoint;
  }

  /**
   * The `AuthMetadataService` name in use: the one configured, else the one that answered; `undefined` before the
   * first answer.
   */
  get serviceName(): string | undefined {
    return this.#forced ?? this.#found;
  }

  /**
   * The server's client config with the local overrides applied. Fetched once; concurrent and later callers share the
   * result (each gets its own copy). Rejects with an `AuthenticationError` (`ERR_IDP_UNREACHABLE` or `ERR_CONFIG`)
   * and forgets the failure.
   */
  async getClientConfig(): Promise<ClientConfig> {
    if (!this.#pending) {
      const pending = this.#fetch();
      this.#pending = pending;
      pending.catch(() => {
        if (this.#pending === pending) this.#pending = undefined;
      });
    }
    return copy(await this.#pending);
  }

  /** Forgets the memoised config, so the next `getClientConfig()` asks the server again. */
  invalidate(): void {
    this.#pending = undefined;
  }

  // The service names to try, in order: the configured one alone, else the one found first, then the other.
  #candidates(): string[] {
    if (this.#forced) return [this.#forced];
    const both = [AUTH_METADATA_SERVICE, AUTH_METADATA_SERVICE_V2];
    return this.#found ? [this.#found, ...both.filter((name) => name !== this.#found)] : both;
  }

  async #fetch(): Promise<ClientConfig> {
    const candidates = this.#candidates();
    const unimplemented: unknown[] = [];
    for (const serviceName of candidates) {
      try {
        const answers = await this.#ask(serviceName);
        this.#found = serviceName;
        return this.#merge(answers, serviceName);
      } catch (error) {
        if (!this.#transport.isUnimplemented(error)) throw error;
        unimplemented.push(error);
      }
    }
    return this.#unserved(candidates, unimplemented);
  }

  // No AuthMetadataService at all: local values when they are enough to get a token, else a clear error.
  #unserved(candidates: string[], causes: unknown[]): ClientConfig {
    const names = candidates.join(' nor ');
    const tokenEndpoint = present(this.#overrides.tokenEndpoint);
    if (tokenEndpoint) {
      this.#warn(
        `flyte-grpc-auth: the server at ${this.endpoint} serves no auth metadata service (${names}: UNIMPLEMENTED); ` +
          `using the local token endpoint ${tokenEndpoint} with the local settings and defaults (header key ` +
          `'${present(this.#overrides.headerKey) ?? 'authorization'}')`,
      );
      return this.#merge({ metadata: {}, publicConfig: {} }, undefined);
    }
    const advice = this.#forced
      ? 'check admin.authMetadataService (FLYTE_ADMIN_AUTHMETADATASERVICE, --auth-metadata-service), or configure the token endpoint locally (admin.tokenUrl)'
      : 'is this a Flyte API endpoint? Otherwise configure the token endpoint locally (admin.tokenUrl, StaticClientConfigStore)';
    throw new AuthenticationError(
      `cannot fetch the client config: the server at ${this.endpoint} does not serve ${names} (UNIMPLEMENTED); ${advice}`,
      { code: 'ERR_CONFIG', endpoint: this.endpoint, cause: causes.length === 1 ? causes[0] : new AggregateError(causes, 'UNIMPLEMENTED') },
    );
  }

  async #ask(serviceName: string): Promise<Answers> {
    const controller = new AbortController();
    const waiting = new Set<AuthMetadataRpc>();
    const options = { signal: controller.signal, timeoutMs: this.#timeoutMs };
    const track = <T>(rpc: AuthMetadataRpc, call: () => Promise<T>): Promise<T> => {
      waiting.add(rpc);
      return call().finally(() => waiting.delete(rpc));
    };
    // Our own deadline as well as the transport's: a client interceptor may hold a call before it reaches the network.
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    let onDeadline: (() => void) | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      onDeadline = () => reject(this.#deadlineError(serviceName, [...waiting]));
      deadline.addEventListener('abort', onDeadline, { once: true });
    });
    timedOut.catch(() => undefined);
    try {
      const metadata: Promise<OAuth2Metadata> = this.#askOAuth2Metadata
        ? track('GetOAuth2Metadata', () => this.#transport.getOAuth2Metadata(serviceName, options))
        : Promise.resolve({});
      const publicConfig = track('GetPublicClientConfig', () => this.#transport.getPublicClientConfig(serviceName, options));
      const [metadataAnswer, publicConfigAnswer] = await Promise.race([Promise.all([metadata, publicConfig]), timedOut]);
      return { metadata: metadataAnswer, publicConfig: publicConfigAnswer };
    } finally {
      if (onDeadline) deadline.removeEventListener('abort', onDeadline);
      // After the first failure (or the deadline) the other call is not needed any more.
      controller.abort();
    }
  }

  #deadlineError(serviceName: string, waiting: AuthMetadataRpc[]): AuthenticationError {
    const rpcs = waiting.length > 0 ? waiting.join(' and ') : 'GetOAuth2Metadata';
    return new AuthenticationError(
      `cannot fetch the client config: /${serviceName}/${rpcs} at ${this.endpoint} did not answer within ${this.#timeoutMs} ms`,
      { code: 'ERR_IDP_UNREACHABLE', endpoint: this.endpoint },
    );
  }

  #merge({ metadata, publicConfig }: Answers, serviceName: string | undefined): ClientConfig {
    const local = this.#overrides;
    const tokenEndpoint = present(local.tokenEndpoint) ?? present(metadata.tokenEndpoint);
    if (!tokenEndpoint) {
      throw new AuthenticationError(
        `the server at ${this.endpoint} (${serviceName ?? AUTH_METADATA_SERVICE}/GetOAuth2Metadata) published no token endpoint; ` +
          'configure the token endpoint locally (tokenEndpoint override, flytectl admin.tokenUrl)',
        { code: 'ERR_CONFIG', endpoint: this.endpoint },
      );
    }
    const config: ClientConfig = { tokenEndpoint };
    const fields: Array<[Exclude<keyof ClientConfig, 'tokenEndpoint' | 'scopes'>, string | undefined]> = [
      ['authorizationEndpoint', present(metadata.authorizationEndpoint)],
      ['deviceAuthorizationEndpoint', present(metadata.deviceAuthorizationEndpoint)],
      ['issuer', present(metadata.issuer)],
      ['redirectUri', present(local.redirectUri) ?? present(publicConfig.redirectUri)],
      ['clientId', present(local.clientId) ?? present(publicConfig.clientId)],
      ['headerKey', present(local.headerKey) ?? present(publicConfig.authorizationMetadataKey)],
      ['audience', present(local.audience) ?? (this.#audienceFromServer ? present(publicConfig.audience) : undefined)],
      ['dataplaneDomain', present(publicConfig.dataplaneDomain)],
    ];
    for (const [key, value] of fields) if (value !== undefined) config[key] = value;
    const scopes = presentList(local.scopes) ?? presentList(publicConfig.scopes);
    if (scopes) config.scopes = scopes;
    return config;
  }
}

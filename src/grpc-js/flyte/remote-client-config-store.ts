import * as grpc from '@grpc/grpc-js';
import type { ClientConfig, ClientConfigStore } from '../../flyte/client-config.js';
import { AuthenticationError } from '../../errors.js';
import { toAuthMetadataError } from './auth-metadata-errors.js';
import {
  AUTH_METADATA_SERVICE,
  authMetadataServiceDefinition,
  type OAuth2MetadataResponse,
  type PublicClientAuthConfigResponse,
} from './flyte-protos.js';

/** Default deadline of each `AuthMetadataService` call. */
export const DEFAULT_REMOTE_CONFIG_TIMEOUT_MS = 10_000;

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

/** Options of `RemoteClientConfigStore`. */
export interface RemoteClientConfigStoreOptions {
  /** The Flyte gRPC endpoint (`host:port`, or any grpc-js target such as `dns:///host:443`). */
  endpoint: string;
  /** The same TLS settings as the authenticated channel (`createSsl(ca)`, `createInsecure()`, …). */
  channelCredentials: grpc.ChannelCredentials;
  /**
   * grpc-js channel options (`grpc.ssl_target_name_override`, `grpc.primary_user_agent`, …). Interceptors passed
   * here are ignored: the calls are anonymous, use `interceptors`.
   */
  channelOptions?: grpc.ChannelOptions | undefined;
  /** Default `flyteidl.service.AuthMetadataService`; `flyteidl2.auth.AuthMetadataService` for Flyte 2. */
  serviceName?: string | undefined;
  /** Deadline of each of the two calls, in milliseconds. Default 10 000. */
  timeoutMs?: number | undefined;
  /**
   * Interceptors for the two calls, e.g. the proxy-authorization interceptor. Never the admin auth interceptor:
   * the service is anonymous, and the admin token needs this very config.
   */
  interceptors?: grpc.Interceptor[] | undefined;
  /** Local values that win over the server's. */
  overrides?: RemoteClientConfigOverrides | undefined;
}

type RpcName = 'GetOAuth2Metadata' | 'GetPublicClientConfig';

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
 * `GetPublicClientConfig`, both anonymous) where and how to get tokens, like flytekit's `RemoteClientConfigStore`.
 *
 * Unlike flytekit, the two calls run in parallel with a deadline, the answer is memoised (concurrent callers share one
 * fetch), a failure is not memoised (the next call asks again, unlike the Go client's `sync.Once`), empty proto3
 * strings mean "absent", and local `overrides` win over the server for client id, scopes, audience, header key, token
 * endpoint and redirect URI.
 */
export class RemoteClientConfigStore implements ClientConfigStore {
  readonly endpoint: string;
  readonly serviceName: string;
  readonly #options: RemoteClientConfigStoreOptions;
  readonly #timeoutMs: number;
  #pending: Promise<ClientConfig> | undefined;

  constructor(options: RemoteClientConfigStoreOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REMOTE_CONFIG_TIMEOUT_MS;
    if (!options.endpoint) throw new AuthenticationError('RemoteClientConfigStore needs an endpoint', { code: 'ERR_CONFIG' });
    if (!(timeoutMs > 0)) {
      throw new AuthenticationError(`RemoteClientConfigStore timeoutMs must be positive, got ${timeoutMs}`, {
        code: 'ERR_CONFIG',
        endpoint: options.endpoint,
      });
    }
    this.endpoint = options.endpoint;
    this.serviceName = options.serviceName || AUTH_METADATA_SERVICE;
    this.#options = options;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * The server's client config with the local overrides applied. Fetched once; concurrent and later callers share the
   * result. Rejects with an `AuthenticationError` (`ERR_IDP_UNREACHABLE` or `ERR_CONFIG`) and forgets the failure.
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

  async #fetch(): Promise<ClientConfig> {
    const { metadata, publicConfig } = await this.#callServer();
    return this.#merge(metadata, publicConfig);
  }

  async #callServer(): Promise<{ metadata: OAuth2MetadataResponse; publicConfig: PublicClientAuthConfigResponse }> {
    const service = authMetadataServiceDefinition(this.serviceName);
    // Only our interceptors: whatever the caller's options carry (the admin auth interceptor) must not run here.
    const { interceptors: _ignored, interceptor_providers: _ignoredToo, ...channelOptions } = (this.#options.channelOptions ??
      {}) as grpc.ClientOptions;
    let client: grpc.Client;
    try {
      client = new grpc.Client(this.endpoint, this.#options.channelCredentials, {
        ...channelOptions,
        interceptors: this.#options.interceptors ?? [],
      });
    } catch (error) {
      throw toAuthMetadataError(error, this.#context('GetOAuth2Metadata'));
    }

    const calls = new Map<RpcName, grpc.ClientUnaryCall>();
    const deadline = Date.now() + this.#timeoutMs;
    const call = <T>(rpc: RpcName, method: grpc.MethodDefinition<Record<string, never>, T>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const started = client.makeUnaryRequest(
          method.path,
          method.requestSerialize,
          method.responseDeserialize,
          {},
          new grpc.Metadata(),
          { deadline },
          (error, value) => {
            calls.delete(rpc);
            if (error || value === undefined) reject(toAuthMetadataError(error ?? new Error('empty response'), this.#context(rpc)));
            else resolve(value);
          },
        );
        calls.set(rpc, started);
      });

    let timer: NodeJS.Timeout | undefined;
    // grpc-js does not enforce the deadline while an interceptor is still working before the call starts.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const waiting = [...calls.keys()].join(' and ') || 'GetOAuth2Metadata';
        const error = Object.assign(new Error('deadline exceeded'), { code: grpc.status.DEADLINE_EXCEEDED, details: 'deadline exceeded', metadata: new grpc.Metadata() });
        reject(toAuthMetadataError(error, this.#context(waiting)));
      }, this.#timeoutMs);
    });
    try {
      const [metadata, publicConfig] = await Promise.race([
        Promise.all([call('GetOAuth2Metadata', service.GetOAuth2Metadata), call('GetPublicClientConfig', service.GetPublicClientConfig)]),
        timeout,
      ]);
      return { metadata, publicConfig };
    } finally {
      clearTimeout(timer);
      // After the first failure, the other call is not needed any more.
      for (const pending of calls.values()) pending.cancel();
      client.close();
    }
  }

  #context(rpc: string): { endpoint: string; serviceName: string; rpc: string; timeoutMs: number } {
    return { endpoint: this.endpoint, serviceName: this.serviceName, rpc, timeoutMs: this.#timeoutMs };
  }

  #merge(metadata: OAuth2MetadataResponse, publicConfig: PublicClientAuthConfigResponse): ClientConfig {
    const local = this.#options.overrides ?? {};
    const tokenEndpoint = present(local.tokenEndpoint) ?? present(metadata.tokenEndpoint);
    if (!tokenEndpoint) {
      throw new AuthenticationError(
        `the server at ${this.endpoint} (${this.serviceName}/GetOAuth2Metadata) published no token endpoint; ` +
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
      ['audience', present(local.audience) ?? present(publicConfig.audience)],
    ];
    for (const [key, value] of fields) if (value !== undefined) config[key] = value;
    const scopes = presentList(local.scopes) ?? presentList(publicConfig.scopes);
    if (scopes) config.scopes = scopes;
    return config;
  }
}

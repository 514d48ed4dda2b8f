import type * as grpc from '@grpc/grpc-js';
import {
  AuthMetadataClientConfigStore,
  type AuthMetadataClientConfigStoreOptions,
  type RemoteClientConfigOverrides,
} from '../../flyte/auth-metadata-client-config-store.js';
import { GrpcAuthMetadataTransport } from './grpc-auth-metadata-transport.js';

export { DEFAULT_REMOTE_CONFIG_TIMEOUT_MS } from '../../flyte/auth-metadata-client-config-store.js';
export type { RemoteClientConfigOverrides } from '../../flyte/auth-metadata-client-config-store.js';

/** Options of `RemoteClientConfigStore`. */
export interface RemoteClientConfigStoreOptions extends Omit<AuthMetadataClientConfigStoreOptions, 'transport'> {
  /** The Flyte gRPC endpoint (`host:port`, or any grpc-js target such as `dns:///host:443`). */
  endpoint: string;
  /** The same TLS settings as the authenticated channel (`createSsl(ca)`, `createInsecure()`, …). */
  channelCredentials: grpc.ChannelCredentials;
  /**
   * grpc-js channel options (`grpc.ssl_target_name_override`, `grpc.primary_user_agent`, …). Interceptors passed
   * here are ignored: the calls are anonymous, use `interceptors`.
   */
  channelOptions?: grpc.ChannelOptions | undefined;
  /**
   * Interceptors for the two calls, e.g. the proxy-authorization interceptor. Never the admin auth interceptor:
   * the service is anonymous, and the admin token needs this very config.
   */
  interceptors?: grpc.Interceptor[] | undefined;
  /** Local values that win over the server's. */
  overrides?: RemoteClientConfigOverrides | undefined;
}

/**
 * The `AuthMetadataClientConfigStore` over grpc-js: asks the Flyte server's `AuthMetadataService` (Flyte 1, else
 * Flyte 2) for the OAuth settings, like flytekit's `RemoteClientConfigStore`. See `AuthMetadataClientConfigStore` for
 * memoisation, precedence and the Flyte 2 fallback.
 *
 * @example
 * const store = new RemoteClientConfigStore({ endpoint: 'flyte.example.com:443', channelCredentials: grpc.credentials.createSsl() });
 */
export class RemoteClientConfigStore extends AuthMetadataClientConfigStore {
  constructor(options: RemoteClientConfigStoreOptions) {
    const { endpoint, channelCredentials, channelOptions, interceptors, ...storeOptions } = options;
    super({ ...storeOptions, transport: new GrpcAuthMetadataTransport({ endpoint, channelCredentials, channelOptions, interceptors }) });
  }
}

/** Options of `createRemoteClientConfigStore`: everything but the endpoint and the credentials. */
export type RemoteClientConfigStoreFactoryOptions = Omit<RemoteClientConfigStoreOptions, 'endpoint' | 'channelCredentials'>;

/**
 * A `RemoteClientConfigStore` for a channel target and its credentials: what the AUTH_MODE switch uses for the
 * server-published config.
 */
export function createRemoteClientConfigStore(
  target: string,
  channelCredentials: grpc.ChannelCredentials,
  options: RemoteClientConfigStoreFactoryOptions = {},
): RemoteClientConfigStore {
  return new RemoteClientConfigStore({ ...options, endpoint: target, channelCredentials });
}

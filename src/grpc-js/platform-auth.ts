import type { ChannelCredentials, ClientOptions, Interceptor } from '@grpc/grpc-js';
import type { Authenticator } from '../authenticators/authenticator.js';
import type { ClientConfigStore } from '../flyte/client-config.js';
import { createAuthInterceptors } from './auth-interceptors.js';
import { createChannelCredentials } from './channel-credentials.js';
import { getAuthenticator, type GetAuthenticatorOptions } from '../flyte/get-authenticator.js';
import type { PlatformConfig } from '../flyte/platform-config.js';
import { localClientConfigStore, platformClientConfigOptions } from '../flyte/platform-client-config.js';
import { createProxyAuthenticator } from '../flyte/proxy-authenticator.js';
import { createProxyAuthInterceptor } from './proxy-auth.js';
import { RemoteClientConfigStore } from './flyte/remote-client-config-store.js';
import type { WarningListener } from '../tokens/warn.js';

export interface PlatformAuthOptions extends Omit<GetAuthenticatorOptions, 'proxyAuthenticator'> {
  /** Where the OAuth settings come from. Default: the server's `AuthMetadataService`, local values winning. */
  clientConfigStore?: ClientConfigStore | undefined;
  /**
   * The auth metadata service, e.g. `flyteidl2.auth.AuthMetadataService` for Flyte 2. Default: `cfg.authMetadataService`,
   * else Flyte 1's, and Flyte 2's when the server does not serve Flyte 1's.
   */
  authMetadataServiceName?: string | undefined;
  /** Receives the one warning when the server serves no `AuthMetadataService` and local values are used. */
  warn?: WarningListener | undefined;
}

/** Everything a Flyte client needs, built once from a `PlatformConfig` and shared by every stub. */
export interface PlatformAuth {
  /** The admin authenticator chosen by `authMode`. */
  authenticator: Authenticator;
  /** The `proxy-authorization` authenticator, when `proxyCommand` is configured. */
  proxyAuthenticator: Authenticator | undefined;
  clientConfigStore: ClientConfigStore;
  /** TLS (or plaintext) for the channel: the same policy the OAuth requests follow. */
  channelCredentials: ChannelCredentials;
  /** Admin auth, then proxy auth. */
  interceptors: Interceptor[];
  /** `existing` client options plus the auth interceptors, ready for any generated client constructor. */
  clientOptions(existing?: ClientOptions): ClientOptions;
}

/** Options of {@link createClientConfigStore}. */
export interface ClientConfigStoreOptions {
  /** Default: `createChannelCredentials(cfg)`. */
  channelCredentials?: ChannelCredentials | undefined;
  /** Sends `proxy-authorization` on the metadata calls. */
  proxyAuthenticator?: Authenticator | undefined;
  /** Default `cfg.authMetadataService`, else found (Flyte 1, then Flyte 2). */
  serviceName?: string | undefined;
  /** Receives the one warning when the server serves no `AuthMetadataService`. Default `process.emitWarning`. */
  warn?: WarningListener | undefined;
}

/**
 * The client config store for `cfg`: the server's `AuthMetadataService` (anonymous, over the same TLS, with the proxy
 * token), local values winning. With a local `tokenUrl` and client credentials, only `GetPublicClientConfig` is asked,
 * for what is missing locally (header key; scopes when none are local; audience with `useAudienceFromAdmin`), and
 * nothing at all when nothing is missing; a server without `AuthMetadataService` then means local values and
 * defaults, with one warning.
 */
export function createClientConfigStore(cfg: PlatformConfig, options: ClientConfigStoreOptions = {}): ClientConfigStore {
  return (
    localClientConfigStore(cfg) ??
    new RemoteClientConfigStore({
      ...platformClientConfigOptions(cfg, { serviceName: options.serviceName, warn: options.warn }),
      endpoint: cfg.endpoint,
      channelCredentials: options.channelCredentials ?? createChannelCredentials(cfg),
      interceptors: options.proxyAuthenticator ? [createProxyAuthInterceptor(options.proxyAuthenticator)] : undefined,
    })
  );
}

/**
 * Builds the authenticators, the client config store, the channel credentials and the interceptors for `cfg`.
 * Nothing talks to the network until the first call.
 */
export function createPlatformAuth(cfg: PlatformConfig, options: PlatformAuthOptions = {}): PlatformAuth {
  const channelCredentials = createChannelCredentials(cfg);
  const proxyAuthenticator = cfg.proxyCommand?.length
    ? createProxyAuthenticator({ command: cfg.proxyCommand, endpoint: cfg.endpoint })
    : undefined;
  const clientConfigStore =
    options.clientConfigStore ??
    createClientConfigStore(cfg, { channelCredentials, proxyAuthenticator, serviceName: options.authMetadataServiceName, warn: options.warn });
  const authenticator = getAuthenticator(cfg, clientConfigStore, { ...options, proxyAuthenticator });
  const interceptors = createAuthInterceptors({ authenticator, proxyAuthenticator });
  return {
    authenticator,
    proxyAuthenticator,
    clientConfigStore,
    channelCredentials,
    interceptors,
    clientOptions: (existing) => withInterceptors(existing ?? {}, interceptors),
  };
}

// grpc-js refuses `interceptors` next to `interceptor_providers`: join whichever form the caller already uses.
function withInterceptors(existing: ClientOptions, interceptors: Interceptor[]): ClientOptions {
  const providers = existing.interceptor_providers;
  if (providers?.length) return { ...existing, interceptor_providers: [...providers, ...interceptors.map((interceptor) => () => interceptor)] };
  return { ...existing, interceptors: [...(existing.interceptors ?? []), ...interceptors] };
}

const shared = new WeakMap<PlatformConfig, PlatformAuth>();

/**
 * grpc-js client options for `cfg`: `existingOptions` plus the auth interceptors (admin, then proxy). Every call with
 * the same `cfg` object shares one authenticator, so all stubs share one token.
 *
 * @example
 * const cfg = await loadPlatformConfig();
 * const admin = new AdminServiceClient(cfg.endpoint, createChannelCredentials(cfg), authenticatedClientOptions(cfg, myOptions));
 */
export function authenticatedClientOptions(cfg: PlatformConfig, existingOptions?: ClientOptions): ClientOptions {
  let auth = shared.get(cfg);
  if (!auth) {
    auth = createPlatformAuth(cfg);
    shared.set(cfg, auth);
  }
  return auth.clientOptions(existingOptions);
}

import type { Interceptor, Transport } from '@connectrpc/connect';
import type { Authenticator } from '../authenticators/authenticator.js';
import { AuthenticationError } from '../errors.js';
import { AuthMetadataClientConfigStore } from '../flyte/auth-metadata-client-config-store.js';
import type { ClientConfigStore } from '../flyte/client-config.js';
import { getAuthenticator, type GetAuthenticatorOptions } from '../flyte/get-authenticator.js';
import { localClientConfigStore, platformClientConfigOptions } from '../flyte/platform-client-config.js';
import type { PlatformConfig } from '../flyte/platform-config.js';
import { createProxyAuthenticator } from '../flyte/proxy-authenticator.js';
import type { WarningListener } from '../tokens/warn.js';
import { createAuthInterceptors } from './auth-interceptors.js';
import { ConnectAuthMetadataTransport } from './flyte/connect-auth-metadata-transport.js';
import { createProxyAuthInterceptor } from './proxy-auth.js';

/** Options of the Connect {@link createPlatformAuth}. */
export interface PlatformAuthOptions extends Omit<GetAuthenticatorOptions, 'proxyAuthenticator'> {
  /**
   * A Connect transport to the Flyte API (`createGrpcTransport` or `createConnectTransport`, the same base URL and TLS
   * as the authenticated one) **without** the auth interceptors: the anonymous `AuthMetadataService` is called over
   * it (with the proxy token when `proxyCommand` is set). Not needed when `clientConfigStore` is given.
   */
  transport?: Transport | undefined;
  /** Where the OAuth settings come from. Default: the server's `AuthMetadataService` over `transport`, local values winning. */
  clientConfigStore?: ClientConfigStore | undefined;
  /**
   * The auth metadata service, e.g. `flyteidl2.auth.AuthMetadataService`. Default: `cfg.authMetadataService`, else
   * Flyte 1's, and Flyte 2's when the server does not serve Flyte 1's.
   */
  authMetadataServiceName?: string | undefined;
  /** Receives the one warning when the server serves no `AuthMetadataService` and local values are used. */
  warn?: WarningListener | undefined;
}

/** Everything a Connect client of Flyte needs, built once from a `PlatformConfig` and shared by every client. */
export interface PlatformAuth {
  /** The admin authenticator chosen by `authMode`. */
  authenticator: Authenticator;
  /** The `proxy-authorization` authenticator, when `proxyCommand` is configured. */
  proxyAuthenticator: Authenticator | undefined;
  clientConfigStore: ClientConfigStore;
  /** Admin auth, then proxy auth: the `interceptors` of the transport the clients use. */
  interceptors: Interceptor[];
}

/**
 * Builds the authenticators, the client config store and the Connect interceptors for `cfg`, the `AuthMetadataService`
 * (Flyte 1 or Flyte 2, as found) called over `options.transport`. Nothing talks to the network until the first call.
 *
 * @example
 * const cfg = await loadPlatformConfig();
 * const baseUrl = `https://${cfg.endpoint}`;
 * const auth = createPlatformAuth(cfg, { transport: createGrpcTransport({ baseUrl }) });
 * const identity = createClient(IdentityService, createGrpcTransport({ baseUrl, interceptors: auth.interceptors }));
 * @throws AuthenticationError `ERR_CONFIG` when the config needs the server's `AuthMetadataService` and no
 *   `transport` was given, or when the auth mode's settings are missing.
 */
export function createPlatformAuth(cfg: PlatformConfig, options: PlatformAuthOptions = {}): PlatformAuth {
  const proxyAuthenticator = cfg.proxyCommand?.length ? createProxyAuthenticator({ command: cfg.proxyCommand, endpoint: cfg.endpoint }) : undefined;
  const clientConfigStore = options.clientConfigStore ?? createClientConfigStore(cfg, { ...options, proxyAuthenticator });
  const authenticator = getAuthenticator(cfg, clientConfigStore, { ...options, proxyAuthenticator });
  return { authenticator, proxyAuthenticator, clientConfigStore, interceptors: createAuthInterceptors({ authenticator, proxyAuthenticator }) };
}

/** Options of the Connect {@link createClientConfigStore}. */
export interface ClientConfigStoreOptions {
  /** The transport the anonymous `AuthMetadataService` calls go over (see {@link PlatformAuthOptions.transport}). */
  transport?: Transport | undefined;
  /** Sends `proxy-authorization` on the metadata calls. */
  proxyAuthenticator?: Authenticator | undefined;
  /** Default `cfg.authMetadataService`, else found (Flyte 1, then Flyte 2). */
  authMetadataServiceName?: string | undefined;
  /** Receives the one warning when the server serves no `AuthMetadataService`. Default `process.emitWarning`. */
  warn?: WarningListener | undefined;
}

/**
 * The client config store for `cfg` over a Connect transport: the same rules as the grpc-js one (local values win;
 * with a local `tokenUrl`, only what is missing locally is asked, and nothing when nothing is).
 */
export function createClientConfigStore(cfg: PlatformConfig, options: ClientConfigStoreOptions): ClientConfigStore {
  const local = localClientConfigStore(cfg);
  if (local) return local;
  const { transport, proxyAuthenticator } = options;
  if (!transport) {
    throw new AuthenticationError(
      `the client config for ${cfg.endpoint} comes from its AuthMetadataService: pass a Connect transport to it ` +
        '(createPlatformAuth(cfg, { transport })), or a clientConfigStore',
      { code: 'ERR_CONFIG', endpoint: cfg.endpoint },
    );
  }
  return new AuthMetadataClientConfigStore({
    ...platformClientConfigOptions(cfg, { serviceName: options.authMetadataServiceName, warn: options.warn }),
    transport: new ConnectAuthMetadataTransport({
      transport,
      endpoint: cfg.endpoint,
      interceptors: proxyAuthenticator ? [createProxyAuthInterceptor(proxyAuthenticator)] : undefined,
    }),
  });
}

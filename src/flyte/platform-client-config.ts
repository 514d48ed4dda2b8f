import type { AuthMetadataClientConfigStoreOptions } from './auth-metadata-client-config-store.js';
import { authFlowOf } from './auth-type.js';
import { StaticClientConfigStore } from './client-config.js';
import type { PlatformConfig } from './platform-config.js';
import type { WarningListener } from '../tokens/warn.js';

/** What a transport adds to {@link platformClientConfigOptions} to ask the server: its `AuthMetadataTransport`. */
export type PlatformClientConfigOptions = Omit<AuthMetadataClientConfigStoreOptions, 'transport'>;

// With a local token URL, client credentials need from the server only what is not set locally (flytectl's rule).
function localTokenUrl(cfg: PlatformConfig): boolean {
  return Boolean(cfg.tokenUrl) && authFlowOf(cfg.authMode) === 'clientSecret';
}

function nothingMissingLocally(cfg: PlatformConfig): boolean {
  return Boolean(cfg.authorizationHeader) && cfg.scopes.length > 0 && !cfg.useAudienceFromAdmin;
}

/**
 * The client config when `cfg` needs nothing from the server (client credentials with a local `tokenUrl`, header
 * key and scopes, and no `useAudienceFromAdmin`), else `undefined`. Every transport's platform wiring asks this first.
 */
export function localClientConfigStore(cfg: PlatformConfig): StaticClientConfigStore | undefined {
  if (!localTokenUrl(cfg) || !nothingMissingLocally(cfg)) return undefined;
  return new StaticClientConfigStore({
    tokenEndpoint: cfg.tokenUrl ?? '',
    scopes: cfg.scopes,
    ...(cfg.audience ? { audience: cfg.audience } : {}),
    ...(cfg.authorizationHeader ? { headerKey: cfg.authorizationHeader } : {}),
  });
}

/**
 * How the `AuthMetadataService` store for `cfg` asks the server, whatever the transport: the service (configured, or
 * found), the deadline, local values winning, and with a local `tokenUrl` only `GetPublicClientConfig`, for what is
 * missing locally (header key; scopes when none are local; audience with `useAudienceFromAdmin`).
 */
export function platformClientConfigOptions(
  cfg: PlatformConfig,
  options: { serviceName?: string | undefined; warn?: WarningListener | undefined } = {},
): PlatformClientConfigOptions {
  const local = localTokenUrl(cfg);
  return {
    serviceName: options.serviceName ?? cfg.authMetadataService,
    timeoutMs: cfg.perRetryTimeoutMs,
    askOAuth2Metadata: !local,
    audienceFromServer: !local || cfg.useAudienceFromAdmin,
    warn: options.warn,
    overrides: {
      clientId: cfg.clientId,
      scopes: cfg.scopes,
      audience: cfg.useAudienceFromAdmin ? undefined : cfg.audience,
      headerKey: cfg.authorizationHeader,
      tokenEndpoint: cfg.tokenUrl,
    },
  };
}

import { AuthType } from './auth-type.js';

/**
 * PKCE settings (flytectl `admin.pkceConfig`).
 */
export interface PkceConfig {
  /**
   * How long to wait for the browser login.
   * YAML `admin.pkceConfig.timeout`, env `FLYTE_ADMIN_PKCECONFIG_TIMEOUT`, default 2 min (120000).
   */
  timeoutMs: number;
  /**
   * How long before expiry a token is refreshed.
   * YAML `admin.pkceConfig.refreshTime`, env `FLYTE_ADMIN_PKCECONFIG_REFRESHTIME`, default unset (the
   * authenticator's own refresh window; flytectl's 5 min default is not applied).
   */
  refreshTimeMs?: number;
}

/**
 * Device-flow settings (flytectl `admin.deviceFlowConfig`).
 */
export interface DeviceFlowConfig {
  /**
   * How long the whole device flow may take.
   * YAML `admin.deviceFlowConfig.timeout`, env `FLYTE_ADMIN_DEVICEFLOWCONFIG_TIMEOUT`, default 10 min (600000).
   */
  timeoutMs: number;
  /**
   * Polling interval when the identity provider sends none.
   * YAML `admin.deviceFlowConfig.pollInterval`, env `FLYTE_ADMIN_DEVICEFLOWCONFIG_POLLINTERVAL`, default 5 s (5000).
   */
  pollIntervalMs: number;
  /**
   * How long before expiry a token is refreshed.
   * YAML `admin.deviceFlowConfig.refreshTime`, env `FLYTE_ADMIN_DEVICEFLOWCONFIG_REFRESHTIME`, default unset (the
   * authenticator's own refresh window; flytectl's 5 min default is not applied).
   */
  refreshTimeMs?: number;
}

/**
 * Everything needed to reach and authenticate to a Flyte platform: flytekit's `PlatformConfig`, camelCased, plus the
 * flytectl `admin:` keys that matter to authentication. Built by `loadPlatformConfig` from `~/.flyte/config.yaml`
 * (or the file named by `FLYTECTL_CONFIG`) and `FLYTE_*` environment variables; an environment variable beats the
 * YAML key, which beats the default. Durations are milliseconds.
 */
export interface PlatformConfig {
  /**
   * The Flyte admin gRPC endpoint, `host[:port]`, with any `dns:///` prefix removed.
   * YAML `admin.endpoint`, env `FLYTE_PLATFORM_URL`, default `localhost:30080`.
   */
  endpoint: string;
  /** Plaintext channel (no TLS). YAML `admin.insecure`, env `FLYTE_PLATFORM_INSECURE`, default false. */
  insecure: boolean;
  /**
   * Do not verify the server's TLS certificate (gRPC and OAuth HTTP).
   * YAML `admin.insecureSkipVerify`, env `FLYTE_PLATFORM_INSECURE_SKIP_VERIFY`, default false.
   */
  insecureSkipVerify: boolean;
  /**
   * PEM file of CA certificates to trust (gRPC and OAuth HTTP).
   * YAML `admin.caCertFilePath`, env `FLYTE_PLATFORM_CA_CERT_FILE_PATH`, default unset (system roots).
   */
  caCertFilePath?: string;
  /**
   * The console's URL if it differs from the endpoint; no role in auth.
   * YAML `console.endpoint`, env `FLYTE_PLATFORM_CONSOLE_ENDPOINT`, default unset.
   */
  consoleEndpoint?: string;
  /**
   * Which flow obtains tokens. YAML `admin.authType`, env `FLYTE_CREDENTIALS_AUTH_MODE`, default `standard` (PKCE).
   * Forced to `ClientSecret` when `clientSecretLocation` or `clientSecretEnvVar` yields a secret.
   */
  authMode: AuthType;
  /** OAuth client id (client credentials). YAML `admin.clientId`, env `FLYTE_CREDENTIALS_CLIENT_ID`, default unset. */
  clientId?: string;
  /**
   * The client secret: from env `FLYTE_CREDENTIALS_CLIENT_SECRET`, then overridden by the contents of
   * `clientSecretLocation`, then by the variable named by `clientSecretEnvVar`. No YAML key. Default unset.
   */
  clientCredentialsSecret?: string;
  /**
   * Scopes to request; empty means the server's. YAML `admin.scopes` (list or comma string), env
   * `FLYTE_CREDENTIALS_SCOPES` (comma list), default `[]`.
   */
  scopes: string[];
  /** The `audience` parameter. YAML `admin.audience`, env `FLYTE_CREDENTIALS_AUDIENCE`, default unset. */
  audience?: string;
  /**
   * Command printing a token (`ExternalCommand`), argv form. YAML `admin.command`, env `FLYTE_CREDENTIALS_COMMAND`
   * (comma list), default unset.
   */
  command?: string[];
  /**
   * Command printing a token for `proxy-authorization`, argv form. YAML `admin.proxyCommand`, env
   * `FLYTE_CREDENTIALS_PROXY_COMMAND` (comma list), default unset.
   */
  proxyCommand?: string[];
  /**
   * HTTP(S) proxy for the OAuth HTTP requests. YAML `admin.httpProxyURL`, env `FLYTE_PLATFORM_HTTP_PROXY_URL`,
   * default unset.
   */
  httpProxyUrl?: string;
  /**
   * gRPC metadata key carrying the token; unset means the server's `authorization_metadata_key`.
   * YAML `admin.authorizationHeader`, env `FLYTE_ADMIN_AUTHORIZATIONHEADER`, default unset.
   */
  authorizationHeader?: string;
  /**
   * The Flyte `AuthMetadataService` to ask, e.g. `flyteidl2.auth.AuthMetadataService`; unset asks Flyte 1's
   * `flyteidl.service.AuthMetadataService` and, when the server does not serve it, Flyte 2's. `whoami` calls the
   * `IdentityService` of the same generation. YAML `admin.authMetadataService`, env `FLYTE_ADMIN_AUTHMETADATASERVICE`,
   * default unset (found automatically).
   */
  authMetadataService?: string;
  /**
   * Token endpoint to use instead of the discovered one (client credentials).
   * YAML `admin.tokenUrl`, env `FLYTE_ADMIN_TOKENURL`, default unset.
   */
  tokenUrl?: string;
  /**
   * Use the server's audience even when one is configured locally.
   * YAML `admin.useAudienceFromAdmin`, env `FLYTE_ADMIN_USEAUDIENCEFROMADMIN`, default false.
   */
  useAudienceFromAdmin: boolean;
  /**
   * Never use the OS keyring for tokens. YAML `admin.disableKeyring`, env `FLYTE_ADMIN_DISABLEKEYRING`, default false.
   */
  disableKeyring: boolean;
  /** PKCE settings (YAML `admin.pkceConfig`). */
  pkceConfig: PkceConfig;
  /** Device-flow settings (YAML `admin.deviceFlowConfig`). */
  deviceFlowConfig: DeviceFlowConfig;
  /** Transport retries of a call. YAML `admin.maxRetries`, env `FLYTE_ADMIN_MAXRETRIES`, default 4. */
  maxRetries: number;
  /**
   * Per-attempt timeout of a retried call. YAML `admin.perRetryTimeout`, env `FLYTE_ADMIN_PERRETRYTIMEOUT`,
   * default 15 s (15000).
   */
  perRetryTimeoutMs: number;
  /**
   * File holding the client secret. YAML `admin.clientSecretLocation`, env `FLYTE_CREDENTIALS_CLIENT_SECRET_LOCATION`,
   * default unset (flytectl's `/etc/secrets/client_secret` default is not applied, as in flytekit).
   */
  clientSecretLocation?: string;
  /**
   * Name of an environment variable holding the client secret. YAML `admin.clientSecretEnvVar`, env
   * `FLYTE_CREDENTIALS_CLIENT_SECRET_ENV_VAR`, default unset.
   */
  clientSecretEnvVar?: string;
  /** The config file the values were read from (absolute path); unset when no file was found. */
  source?: string;
}

/** flytekit's `PlatformConfig` defaults and flytectl's `admin:` defaults, in milliseconds. */
export const PLATFORM_CONFIG_DEFAULTS = Object.freeze({
  endpoint: 'localhost:30080',
  authMode: AuthType.STANDARD,
  pkceTimeoutMs: 2 * 60_000,
  deviceFlowTimeoutMs: 10 * 60_000,
  deviceFlowPollIntervalMs: 5_000,
  maxRetries: 4,
  perRetryTimeoutMs: 15_000,
});

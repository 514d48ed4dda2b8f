// The transport-neutral core of flyte-grpc-auth: authenticators, token stores, Flyte config loading, the AUTH_MODE
// switch, the AuthMetadataService client config, errors. Re-exported by every transport's entry point
// (`flyte-grpc-auth/connect`, `flyte-grpc-auth/nice-grpc`); nothing in here imports a transport.

// --- errors ---
export { AccessTokenNotFoundError, AuthenticationError } from './errors.js';
export type { AuthenticationErrorCode, AuthenticationErrorOptions } from './errors.js';

// --- client config and credentials ---
export { StaticClientConfigStore } from './flyte/client-config.js';
export type { ClientConfig, ClientConfigStore } from './flyte/client-config.js';
export type { Credentials } from './tokens/credentials.js';

// --- authenticators ---
export { Authenticator } from './authenticators/authenticator.js';
export type { AuthMetadata, AuthenticatorOptions, RefreshReason } from './authenticators/authenticator.js';
export { ClientCredentialsAuthenticator } from './authenticators/client-credentials.js';
export type { ClientCredentialsAuthenticatorOptions } from './authenticators/client-credentials.js';
export { CommandAuthenticator, DEFAULT_COMMAND_TIMEOUT_MS } from './authenticators/command.js';
export type { CommandAuthenticatorOptions } from './authenticators/command.js';
export { PKCEAuthenticator } from './authenticators/pkce.js';
export type { OpenBrowser, PKCEAuthenticatorOptions } from './authenticators/pkce.js';
export { DeviceCodeAuthenticator } from './authenticators/device-code.js';
export type { DeviceCodeAuthenticatorOptions, DeviceCodePrompt } from './authenticators/device-code.js';
export type { InteractiveAuthenticator, InteractiveAuthenticatorOptions } from './authenticators/interactive.js';
export type { OAuthFetch, OAuthHttpOptions } from './oauth/http.js';
export type { TokenRetryOptions } from './oauth/retry.js';

// --- token stores ---
export { MemoryTokenStore, tokenStoreKey } from './tokens/token-store.js';
export type { TokenStore } from './tokens/token-store.js';
export { FileTokenStore } from './tokens/file-token-store.js';
export type { FileTokenStoreOptions } from './tokens/file-token-store.js';
export { KeyringTokenStore } from './tokens/keyring-token-store.js';
export type { KeyringEntry, KeyringModule, KeyringTokenStoreOptions } from './tokens/keyring-token-store.js';
export { createTokenStore } from './tokens/create-token-store.js';
export type { CreateTokenStoreOptions } from './tokens/create-token-store.js';
export { defaultTokenStorePath } from './tokens/user-config-dir.js';
export type { UserConfigDirContext } from './tokens/user-config-dir.js';
export type { WarningListener } from './tokens/warn.js';

// --- Flyte: config files, AUTH_MODE, client config from the AuthMetadataService, proxy auth, TLS for OAuth ---
export { AuthType, parseAuthType } from './flyte/auth-type.js';
export type { DeviceFlowConfig, PkceConfig, PlatformConfig } from './flyte/platform-config.js';
export { loadPlatformConfig } from './flyte/load-platform-config.js';
export type { LoadPlatformConfigOptions } from './flyte/load-platform-config.js';
export { redactPlatformConfig } from './flyte/redact.js';
export { getAuthenticator } from './flyte/get-authenticator.js';
export type { GetAuthenticatorOptions } from './flyte/get-authenticator.js';
export { AuthMetadataClientConfigStore, DEFAULT_REMOTE_CONFIG_TIMEOUT_MS } from './flyte/auth-metadata-client-config-store.js';
export type { AuthMetadataClientConfigStoreOptions, RemoteClientConfigOverrides } from './flyte/auth-metadata-client-config-store.js';
export { AUTH_METADATA_SERVICE, AUTH_METADATA_SERVICE_V2, IDENTITY_SERVICE, IDENTITY_SERVICE_V2, identityServiceFor } from './flyte/auth-metadata.js';
export type { AuthMetadataCallOptions, AuthMetadataRpc, AuthMetadataTransport, OAuth2Metadata, PublicClientConfig } from './flyte/auth-metadata.js';
export { PROXY_AUTHORIZATION_HEADER, createProxyAuthenticator } from './flyte/proxy-authenticator.js';
export type { ProxyAuthenticatorOptions } from './flyte/proxy-authenticator.js';
export { oauthHttpOptions } from './flyte/transport-security.js';
export type { OAuthHttpExtras, TransportSecurityConfig } from './flyte/transport-security.js';

// --- diagnostics: node:diagnostics_channel names and message shapes; OpenTelemetry: `flyte-grpc-auth/otel` ---
export { DIAGNOSTICS_CHANNELS } from './diagnostics/channels.js';
export type {
  LoginMessage,
  RejectedMessage,
  RetryMessage,
  StoreEvent,
  StoreMessage,
  TokenFingerprint,
  TokenRequestMessage,
  TokenRequestResult,
} from './diagnostics/channels.js';

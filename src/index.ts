// The public surface of flyte-grpc-auth. Everything not exported here is internal.

// --- errors ---
export { AccessTokenNotFoundError, AuthenticationError, AuthenticationPendingError } from './errors.js';
export type { AuthenticationErrorCode, AuthenticationErrorOptions } from './errors.js';

// --- client config and credentials ---
export { StaticClientConfigStore } from './config/client-config.js';
export type { ClientConfig, ClientConfigStore } from './config/client-config.js';
export type { Credentials } from './tokens/credentials.js';

// --- authenticators ---
export { Authenticator } from './authenticators/authenticator.js';
export type { AuthMetadata, AuthenticatorOptions } from './authenticators/authenticator.js';
export { ClientCredentialsAuthenticator } from './authenticators/client-credentials.js';
export type { ClientCredentialsAuthenticatorOptions } from './authenticators/client-credentials.js';
export type { OAuthFetch, OAuthHttpOptions } from './oauth/http.js';
export type { TokenRetryOptions } from './oauth/retry.js';

// --- interceptor ---
export { createAuthInterceptor } from './interceptor/auth-interceptor.js';
export type { AuthInterceptorOptions } from './interceptor/auth-interceptor.js';

// --- token stores ---
export { MemoryTokenStore, tokenStoreKey } from './tokens/token-store.js';
export type { TokenStore } from './tokens/token-store.js';

// --- Flyte platform: config files, AUTH_MODE, remote client config (issue 3, part 1) ---
export { AuthType, parseAuthType } from './platform/auth-type.js';
export type { DeviceFlowConfig, PkceConfig, PlatformConfig } from './platform/platform-config.js';
export { loadPlatformConfig } from './platform/load-platform-config.js';
export type { LoadPlatformConfigOptions } from './platform/load-platform-config.js';
export { redactPlatformConfig } from './platform/redact.js';
export { RemoteClientConfigStore, createRemoteClientConfigStore, DEFAULT_REMOTE_CONFIG_TIMEOUT_MS } from './platform/remote-client-config-store.js';
export type {
  RemoteClientConfigOverrides,
  RemoteClientConfigStoreFactoryOptions,
  RemoteClientConfigStoreOptions,
} from './platform/remote-client-config-store.js';
export { AUTH_METADATA_SERVICE, AUTH_METADATA_SERVICE_V2 } from './platform/flyte-protos.js';

// --- Flyte platform: command and proxy auth, TLS, channel options (issue 3, part 2) ---
export { CommandAuthenticator, DEFAULT_COMMAND_TIMEOUT_MS } from './authenticators/command.js';
export type { CommandAuthenticatorOptions } from './authenticators/command.js';
export {
  PROXY_AUTHORIZATION_HEADER,
  createProxyAuthInterceptor,
  createProxyAuthenticator,
  isProxyRejection,
  isServerAuthRejection,
} from './platform/proxy-auth.js';
export type { ProxyAuthenticatorOptions } from './platform/proxy-auth.js';
export { createAuthInterceptors } from './platform/auth-interceptors.js';
export type { AuthInterceptorsOptions } from './platform/auth-interceptors.js';
export { createChannelCredentials, oauthHttpOptions } from './platform/channel-credentials.js';
export type { OAuthHttpExtras, TransportSecurityConfig } from './platform/channel-credentials.js';
export { getAuthenticator } from './platform/get-authenticator.js';
export type { GetAuthenticatorOptions } from './platform/get-authenticator.js';
export { authenticatedClientOptions, createClientConfigStore, createPlatformAuth } from './platform/platform-auth.js';
export type { PlatformAuth, PlatformAuthOptions } from './platform/platform-auth.js';

// --- interactive flows: PKCE, device code, persistent token stores (issue 4) ---
export { FileTokenStore } from './tokens/file-token-store.js';
export type { FileTokenStoreOptions } from './tokens/file-token-store.js';
export { KeyringTokenStore } from './tokens/keyring-token-store.js';
export type { KeyringEntry, KeyringModule, KeyringTokenStoreOptions } from './tokens/keyring-token-store.js';
export { createTokenStore } from './tokens/create-token-store.js';
export type { CreateTokenStoreOptions } from './tokens/create-token-store.js';
export { defaultTokenStorePath } from './tokens/user-config-dir.js';
export type { UserConfigDirContext } from './tokens/user-config-dir.js';
export type { WarningListener } from './tokens/warn.js';
export { PKCEAuthenticator } from './authenticators/pkce.js';
export type { OpenBrowser, PKCEAuthenticatorOptions } from './authenticators/pkce.js';
export { DeviceCodeAuthenticator } from './authenticators/device-code.js';
export type { DeviceCodeAuthenticatorOptions, DeviceCodePrompt } from './authenticators/device-code.js';
export type { InteractiveAuthenticator, InteractiveAuthenticatorOptions } from './authenticators/interactive.js';

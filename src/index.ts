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

// --- Flyte platform: command and proxy auth, TLS, channel options (issue 3, part 2) ---

// --- interactive flows: PKCE, device code, persistent token stores (issue 4) ---
export { PKCEAuthenticator } from './authenticators/pkce.js';
export type { OpenBrowser, PKCEAuthenticatorOptions } from './authenticators/pkce.js';
export { DeviceCodeAuthenticator } from './authenticators/device-code.js';
export type { DeviceCodeAuthenticatorOptions, DeviceCodePrompt } from './authenticators/device-code.js';
export type { InteractiveAuthenticator, InteractiveAuthenticatorOptions } from './authenticators/interactive.js';

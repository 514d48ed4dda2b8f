// The public surface of flyte-grpc-auth: the transport-neutral core, and authentication for @grpc/grpc-js clients.
// Everything not exported here is internal. Connect and nice-grpc: `flyte-grpc-auth/connect`, `flyte-grpc-auth/nice-grpc`.

export * from './core.js';

// --- grpc-js: interceptors ---
export { createAuthInterceptor } from './grpc-js/auth-interceptor.js';
export type { AuthInterceptorOptions } from './grpc-js/auth-interceptor.js';
export { createProxyAuthInterceptor, isProxyRejection, isServerAuthRejection } from './grpc-js/proxy-auth.js';
export { createAuthInterceptors } from './grpc-js/auth-interceptors.js';
export type { AuthInterceptorsOptions } from './grpc-js/auth-interceptors.js';

// --- grpc-js: Flyte platform wiring, TLS, the AuthMetadataService over grpc-js ---
export { createChannelCredentials } from './grpc-js/channel-credentials.js';
export { authenticatedClientOptions, createClientConfigStore, createPlatformAuth } from './grpc-js/platform-auth.js';
export type { ClientConfigStoreOptions, PlatformAuth, PlatformAuthOptions } from './grpc-js/platform-auth.js';
export { RemoteClientConfigStore } from './grpc-js/flyte/remote-client-config-store.js';
export type { RemoteClientConfigStoreOptions } from './grpc-js/flyte/remote-client-config-store.js';
export { GrpcAuthMetadataTransport } from './grpc-js/flyte/grpc-auth-metadata-transport.js';
export type { GrpcAuthMetadataTransportOptions } from './grpc-js/flyte/grpc-auth-metadata-transport.js';

// flyte-grpc-auth/connect: authentication for `@connectrpc/connect` v2 clients (Flyte 2's official clients in
// `@flyteorg/flyteidl2`), with the transport-neutral core. Nothing reachable from here imports `@grpc/grpc-js`.

export * from './core.js';

// --- Connect ---
export { createAuthInterceptor } from './connect/auth-interceptor.js';
export type { AuthInterceptorOptions } from './connect/auth-interceptor.js';
export { createAuthInterceptors } from './connect/auth-interceptors.js';
export type { AuthInterceptorsOptions } from './connect/auth-interceptors.js';
export { createProxyAuthInterceptor, isProxyRejection, isServerAuthRejection } from './connect/proxy-auth.js';
export { createClientConfigStore, createPlatformAuth } from './connect/platform-auth.js';
export type { ClientConfigStoreOptions, PlatformAuth, PlatformAuthOptions } from './connect/platform-auth.js';
export { ConnectAuthMetadataTransport } from './connect/flyte/connect-auth-metadata-transport.js';
export type { ConnectAuthMetadataTransportOptions } from './connect/flyte/connect-auth-metadata-transport.js';

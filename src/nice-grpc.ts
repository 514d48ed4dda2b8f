// flyte-grpc-auth/nice-grpc: authentication for nice-grpc clients, with the transport-neutral core. nice-grpc runs on
// grpc-js: build its channel with `createChannelCredentials` and the platform wiring from `flyte-grpc-auth`.

export * from './core.js';

// --- nice-grpc ---
export { createAuthMiddleware } from './nice-grpc/auth-middleware.js';
export type { AuthMiddlewareOptions } from './nice-grpc/auth-middleware.js';

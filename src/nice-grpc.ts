// flyte-grpc-auth/nice-grpc: authentication for nice-grpc clients, and the transport-neutral core.

// --- nice-grpc ---
export { createAuthMiddleware } from './nice-grpc/auth-middleware.js';
export type { AuthMiddlewareOptions } from './nice-grpc/auth-middleware.js';

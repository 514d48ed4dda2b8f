// flyte-grpc-auth/connect: authentication for `@connectrpc/connect` v2 clients (Flyte 2's official clients), and
// the transport-neutral core. Nothing here loads `@grpc/grpc-js`.

// --- Connect ---
export { createAuthInterceptor } from './connect/auth-interceptor.js';
export type { AuthInterceptorOptions } from './connect/auth-interceptor.js';

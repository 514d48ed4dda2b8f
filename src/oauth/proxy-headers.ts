// Header names shared by the undici dispatcher (loaded on first request) and the proxy-authorization fetch wrapper
// (loaded with the package): a module of their own, so that reading them does not load undici.

/** The private name a proxy token travels under between the fetch wrapper and the origin's pool. */
export const TUNNELLED_PROXY_AUTHORIZATION = 'x-flyte-grpc-auth-proxy-authorization';
/** Marks a 401 that the proxy really answered with 407. */
export const PROXY_STATUS_MARKER = 'x-flyte-grpc-auth-proxy-status';

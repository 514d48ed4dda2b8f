/** The instrumentation scope of every meter and tracer `instrumentAuth` uses. */
export const INSTRUMENTATION_SCOPE = 'flyte-grpc-auth';

/** The metric names `instrumentAuth` records (see docs/observability.md for attributes and units). */
export const METRIC_NAMES = Object.freeze({
  /** Counter: token requests, by `flow`, `reason`, `outcome` (`success` | `failure`), and `error.type` on failure. */
  tokenRequests: 'flyte_grpc_auth.token.requests',
  /** Histogram, seconds: how long token requests took, with the attributes of `tokenRequests`. */
  tokenDuration: 'flyte_grpc_auth.token.duration',
  /** Counter: calls retried after an auth rejection, by `method` and `code`. */
  callRetries: 'flyte_grpc_auth.call.retries',
  /** Counter: auth rejections that reached the caller, by `method` and `retried`. */
  callRejections: 'flyte_grpc_auth.call.rejections',
  /** Counter: interactive logins, by `flow`, `outcome`, and `error.type` on failure. */
  logins: 'flyte_grpc_auth.logins',
  /** Counter: token-store events, by `store` and `event`. */
  storeEvents: 'flyte_grpc_auth.store.events',
  /** Histogram, seconds: how long callers waited for a token-store lock, by `store` and `event`. */
  storeLockWait: 'flyte_grpc_auth.store.lock_wait.duration',
} as const);

/** The span names `instrumentAuth` creates. */
export const SPAN_NAMES = Object.freeze({
  tokenRequest: 'flyte-grpc-auth token request',
  login: 'flyte-grpc-auth login',
} as const);

// Durations from a loopback IdP (milliseconds) to a person typing a device code (minutes).
export const DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

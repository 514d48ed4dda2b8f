import type { AuthenticationError } from '../errors.js';
import { loadPRetry } from '../util/p-retry.js';
import { isTransient, toAuthenticationError } from './errors.js';


/** How transient token-endpoint failures (network, 5xx, 429) are retried. */
export interface TokenRetryOptions {
  /** Retries after the first attempt. Default 3. */
  retries?: number | undefined;
  /** First backoff delay in ms, doubled each time (with jitter). Default 250. */
  minTimeoutMs?: number | undefined;
  /** Largest backoff delay in ms. Default 4000. */
  maxTimeoutMs?: number | undefined;
  /** No new attempt starts after this many ms. Default 30000. */
  maxRetryTimeMs?: number | undefined;
}

/**
 * Runs one OAuth HTTP exchange with retries for transient failures only; OAuth errors (`invalid_client`,
 * `invalid_grant`, any other 4xx) fail at once. Always rejects with an {@link AuthenticationError}.
 */
export async function withTokenRetry<T>(
  request: () => Promise<T>,
  what: string,
  endpoint: string,
  options: TokenRetryOptions = {},
): Promise<T> {
  const { default: pRetry } = await loadPRetry();
  return pRetry(
    async () => {
      try {
        return await request();
      } catch (error) {
        throw toAuthenticationError(error, what, endpoint);
      }
    },
    {
      retries: options.retries ?? 3,
      factor: 2,
      minTimeout: options.minTimeoutMs ?? 250,
      maxTimeout: options.maxTimeoutMs ?? 4_000,
      maxRetryTime: options.maxRetryTimeMs ?? 30_000,
      randomize: true,
      shouldRetry: ({ error }) => isTransient(error as AuthenticationError),
    },
  );
}

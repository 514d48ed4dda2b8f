import type { ResponseBodyError } from 'openid-client';
import { oidc } from '../oauth/openid-client.js';
import type { AuthenticationError } from '../errors.js';
import { isTransient, toAuthenticationError } from '../oauth/errors.js';
import { raceWithSignal, sleep } from '../time/long-delay.js';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
// RFC 8628 §3.5: `slow_down` adds 5 s to the interval for this and every later poll.
const SLOW_DOWN_STEP_MS = 5_000;
// After a failed poll the wait doubles (RFC 8628 §3.5 asks clients to poll less often then), up to this much.
const MAX_BACKOFF_MS = 60_000;

/** How {@link pollDeviceToken} polls. */
export interface DevicePollOptions {
  /** The wait before each poll, in ms (the server's `interval`, or the configured fallback). */
  intervalMs: number;
  /** Ends the polling: the flow's deadline (expiry or timeout) or the caller's cancellation. */
  signal: AbortSignal;
  /** The token endpoint, for messages. */
  tokenEndpoint: string;
  /** Receives each failed poll that is tried again (a network error, 5xx, 429, a body that broke off). */
  onTransientFailure?: (failure: AuthenticationError) => void;
}

// A 5xx or 429 with an OAuth error body, or `temporarily_unavailable`: the server is busy, not refusing.
function isBusyAnswer(error: ResponseBodyError): boolean {
  return error.status >= 500 || error.status === 429 || error.error === 'temporarily_unavailable';
}

/**
 * Polls the token endpoint with the device code until the user has approved (RFC 8628 §3.4). `authorization_pending`
 * keeps the interval, `slow_down` adds 5 s; network errors, 5xx and 429 do not end the login (the user may have just
 * approved): the next poll comes after twice the previous wait. Polling stops only with an answer, a refusal
 * (`access_denied`, `expired_token`, any other OAuth error, a token that fails validation), or when `signal` aborts,
 * in which case it rejects with the signal's reason. Any wait length works (a hostile `interval` cannot overflow a timer).
 */
export async function pollDeviceToken(
  configuration: oidc.Configuration,
  device: oidc.DeviceAuthorizationResponse,
  options: DevicePollOptions,
): Promise<oidc.TokenEndpointResponse> {
  const { signal, tokenEndpoint } = options;
  let intervalMs = options.intervalMs;
  let waitMs = intervalMs;
  for (;;) {
    await sleep(waitMs, signal);
    try {
      return await raceWithSignal(oidc.genericGrantRequest(configuration, DEVICE_CODE_GRANT, { device_code: device.device_code }), signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason as Error;
      if (error instanceof oidc.ResponseBodyError && !isBusyAnswer(error)) {
        if (error.error === 'authorization_pending' || error.error === 'slow_down') {
          if (error.error === 'slow_down') intervalMs += SLOW_DOWN_STEP_MS;
          waitMs = intervalMs;
          continue;
        }
        throw error;
      }
      const failure = toAuthenticationError(error, 'token endpoint', tokenEndpoint);
      if (!(error instanceof oidc.ResponseBodyError) && !isTransient(failure)) throw failure;
      options.onTransientFailure?.(failure);
      waitMs = Math.min(Math.max(waitMs, intervalMs) * 2, Math.max(MAX_BACKOFF_MS, intervalMs));
    }
  }
}

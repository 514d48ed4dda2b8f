import { Buffer } from 'node:buffer';
import type { Credentials } from './credentials.js';

/** Reads a JWT's `exp` claim without verifying it: only the server can judge the token, we only schedule refreshes. */
export function jwtExpiresAt(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined || token.split('.').length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof claims === 'object' && claims !== null && 'exp' in claims && typeof claims.exp === 'number') {
      return claims.exp * 1000;
    }
  } catch {
    // Not a JWT: opaque tokens are fine, they just have no embedded expiry.
  }
  return undefined;
}

/**
 * When the access token expires on this machine's clock: `now + expires_in` when the answer states a lifetime, else the
 * JWT `exp`; `undefined` when neither is known, in which case the token is used until the server rejects it.
 * `expires_in` wins because it is relative: a JWT `exp` is an instant on the identity provider's clock, and a local
 * clock running ahead would make every fresh token look expired (a token request for every call).
 */
export function computeExpiresAt(accessToken: string, expiresInSeconds: number | undefined, now = Date.now()): number | undefined {
  if (typeof expiresInSeconds === 'number' && Number.isFinite(expiresInSeconds) && expiresInSeconds > 0) return now + expiresInSeconds * 1000;
  return jwtExpiresAt(accessToken);
}

/** Default expiry margin: the smaller of 10 s (Go oauth2's `expiryDelta`) and 5% of the token's lifetime. */
export function defaultExpiryMarginMs(lifetimeMs: number): number {
  return Math.min(10_000, Math.max(0, lifetimeMs) * 0.05);
}

/** Default refresh window: the smaller of 60 s and 10% of the token's lifetime. */
export function defaultRefreshWindowMs(lifetimeMs: number): number {
  return Math.min(60_000, Math.max(0, lifetimeMs) * 0.1);
}

/** Whether the access token is past its known expiry (a token without one never expires client-side). */
export function isExpired(credentials: Pick<Credentials, 'expiresAt'>, now = Date.now()): boolean {
  return credentials.expiresAt !== undefined && now >= credentials.expiresAt;
}

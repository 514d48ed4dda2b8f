import type { Credentials } from './credentials.js';
import { isExpired } from './expiry.js';

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Credentials as read back from a file or keychain item, or `undefined` when `value` does not have their shape.
 * Only the known fields are kept, so whatever else the item holds never reaches an authenticator.
 */
export function parseStoredCredentials(value: unknown): Credentials | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const accessToken = optionalString(record.accessToken);
  const forEndpoint = typeof record.forEndpoint === 'string' ? record.forEndpoint : undefined;
  if (accessToken === undefined || forEndpoint === undefined) return undefined;
  const credentials: Credentials = { accessToken, forEndpoint };
  const refreshToken = optionalString(record.refreshToken);
  if (refreshToken !== undefined) credentials.refreshToken = refreshToken;
  const idToken = optionalString(record.idToken);
  if (idToken !== undefined) credentials.idToken = idToken;
  if (typeof record.expiresAt === 'number' && Number.isFinite(record.expiresAt)) credentials.expiresAt = record.expiresAt;
  return credentials;
}

/** The fields of `credentials` that are persisted (a copy with no `undefined` values). */
export function toStoredCredentials(credentials: Credentials): Credentials {
  const stored: Credentials = { accessToken: credentials.accessToken, forEndpoint: credentials.forEndpoint };
  if (credentials.refreshToken) stored.refreshToken = credentials.refreshToken;
  if (credentials.idToken) stored.idToken = credentials.idToken;
  if (credentials.expiresAt !== undefined) stored.expiresAt = credentials.expiresAt;
  return stored;
}

/**
 * Whether stored credentials are worth handing out: an expired access token with no refresh token can only
 * produce a rejected call, so such entries are dropped on read.
 */
export function isUsable(credentials: Credentials, now = Date.now()): boolean {
  return credentials.refreshToken !== undefined || !isExpired(credentials, now);
}

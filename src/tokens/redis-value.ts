import type { Credentials } from './credentials.js';
import { plainFingerprint, type Sealer } from './sealing.js';
import { parseStoredCredentials, toStoredCredentials } from './stored-credentials.js';

// A value in Redis: `fga1:<expiresAt ms or empty>:<fingerprint>:<payload>`, payload `p:<JSON>` or `s:<sealed JSON>`.
// The header stays readable so that the Lua scripts can compare expiries and fingerprints without the key.
const FORMAT = 'fga1';
const HEADER = /^fga1:(\d{0,16}):([0-9a-f]{32}):([ps]):/;

const MAX_EXPIRES_AT = 9_007_199_254_740_991; // Number.MAX_SAFE_INTEGER: 16 digits

/** Values longer than this are never fetched from Redis: stored credentials are a few KB. */
export const MAX_VALUE_BYTES = 65_536;

/** Why a value in Redis could not be used. */
export type ValueProblem = 'garbage' | 'too-large' | 'sealed-without-key' | 'unsealed-with-key' | 'does-not-open';

/** A value read back: the credentials, or why there are none. */
export type DecodedValue = { credentials: Credentials; problem?: undefined } | { credentials?: undefined; problem: ValueProblem };

/** The fingerprint the Lua scripts compare: keyed when values are sealed. */
export function fingerprintOf(accessToken: string, sealer: Sealer | undefined): string {
  return sealer ? sealer.fingerprint(accessToken) : plainFingerprint(accessToken);
}

// The sealed payload is bound to its key and header, so it cannot be moved to another key or given another expiry.
function associatedData(redisKey: string, header: string): string {
  return `${redisKey}\n${header}`;
}

/** The Redis value of `credentials` under `redisKey`, sealed when there is a sealer. */
export function encodeValue(redisKey: string, credentials: Credentials, sealer: Sealer | undefined): string {
  const stored = toStoredCredentials(credentials);
  // Whole, non-negative milliseconds of at most 16 digits: what the header (and the scripts' compare) can hold.
  if (stored.expiresAt !== undefined) stored.expiresAt = Math.min(Math.max(0, Math.trunc(stored.expiresAt)), MAX_EXPIRES_AT);
  const json = JSON.stringify(stored);
  const expiresAt = stored.expiresAt === undefined ? '' : String(stored.expiresAt);
  const header = `${FORMAT}:${expiresAt}:${fingerprintOf(stored.accessToken, sealer)}:${sealer ? 's' : 'p'}:`;
  return header + (sealer ? sealer.seal(json, associatedData(redisKey, header)) : json);
}

/** The credentials in `value` (read from `redisKey`), checked against its header, or the problem with it. */
export function decodeValue(redisKey: string, value: string, sealer: Sealer | undefined): DecodedValue {
  const match = HEADER.exec(value);
  if (!match) return { problem: 'garbage' };
  const [header, expiresAt, fingerprint, mode] = match as unknown as [string, string, string, 'p' | 's'];
  const payload = value.slice(header.length);
  let json: string | undefined;
  if (mode === 's') {
    if (!sealer) return { problem: 'sealed-without-key' };
    json = sealer.open(payload, associatedData(redisKey, header));
    if (json === undefined) return { problem: 'does-not-open' };
  } else {
    // With a key, only sealed values count: anyone who can write to Redis could plant a plain one.
    if (sealer) return { problem: 'unsealed-with-key' };
    json = payload;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { problem: 'garbage' };
  }
  const credentials = parseStoredCredentials(parsed);
  if (!credentials) return { problem: 'garbage' };
  // The header is what the scripts trust; a payload that disagrees with it is not ours.
  const storedExpiry = credentials.expiresAt === undefined ? '' : String(Math.trunc(credentials.expiresAt));
  if (storedExpiry !== expiresAt || fingerprintOf(credentials.accessToken, sealer) !== fingerprint) return { problem: 'garbage' };
  return { credentials };
}

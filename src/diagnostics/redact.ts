import { createHash } from 'node:crypto';
import type { TokenFingerprint } from './channels.js';

/** The longest text (status details, error messages) a diagnostics message or debug line carries. */
export const MAX_TEXT_LENGTH = 1000;

/** The fingerprint of `token`: its length and the last 4 hex characters of its SHA-256. */
export function tokenFingerprint(token: string): TokenFingerprint {
  return { length: token.length, sha256: createHash('sha256').update(token).digest('hex').slice(-4) };
}

/** A fingerprint as text: `<token len=812 sha256=...ab12>` (ASCII only, for any log pipeline). */
export function formatFingerprint(fingerprint: TokenFingerprint): string {
  return `<token len=${fingerprint.length} sha256=...${fingerprint.sha256}>`;
}

/** The fingerprint of the token in an auth header value (`Bearer <token>`, or the value as a whole). */
export function headerFingerprint(value: string | undefined): TokenFingerprint | undefined {
  if (value === undefined) return undefined;
  const match = /^bearer\s+/i.exec(value);
  return tokenFingerprint(match ? value.slice(match[0].length) : value);
}

// What looks like a credential in free text: a JWT, or the value of a Bearer/Basic header (RFC 6750 b64token) long
// enough not to be a word ("no bearer token" stays as it is).
const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const AUTH_HEADER_VALUE = /\b(bearer|basic)(\s+)([A-Za-z0-9._~+/-]{16,}=*)/gi;
// Characters that would break "one line per event" or fool a terminal: C0/C1 controls, DEL, line and paragraph
// separators, bidirectional overrides.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
// Shorter "tokens" would redact ordinary words; real tokens are much longer.
const MIN_KNOWN_TOKEN_LENGTH = 8;

const fingerprintText = (token: string): string => formatFingerprint(tokenFingerprint(token));

/**
 * Makes text from outside (a server's status details, an error message) safe for a diagnostics message or a log
 * line: each of `knownTokens`, anything shaped like a JWT and every Bearer/Basic credential become fingerprints;
 * control characters are escaped; the result is at most {@link MAX_TEXT_LENGTH} characters.
 */
export function redactText(text: string, knownTokens: readonly (string | undefined)[] = []): string {
  let result = text;
  for (const token of knownTokens) {
    if (token && token.length >= MIN_KNOWN_TOKEN_LENGTH && result.includes(token)) result = result.split(token).join(fingerprintText(token));
  }
  result = result
    .replace(JWT, (jwt) => fingerprintText(jwt))
    .replace(AUTH_HEADER_VALUE, (_whole, scheme: string, space: string, credential: string) => `${scheme}${space}${fingerprintText(credential)}`)
    .replace(UNSAFE, (character) => ESCAPES[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return result.length > MAX_TEXT_LENGTH ? `${result.slice(0, MAX_TEXT_LENGTH - 3)}...` : result;
}

/** A URL without its user name and password (`https://REDACTED:REDACTED@idp/token`); other text through {@link redactText}. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redactText(url);
  }
  if (!parsed.username && !parsed.password) return redactText(url);
  if (parsed.username) parsed.username = 'REDACTED';
  if (parsed.password) parsed.password = 'REDACTED';
  return redactText(parsed.href);
}

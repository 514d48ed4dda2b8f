import type { AuthMetadata } from '../authenticators/authenticator.js';
import { headerKeyProblem } from '../tokens/validate.js';
import { TOKEN_FAILURE_DETAILS_PREFIX } from './call-statuses.js';
import { StatusCode, type CallStatus } from './status-codes.js';

// A header value the auth scheme allows: visible ASCII (0x21–0x7E), one space between scheme and token at most.
const LEGAL_VALUE = /^[\x21-\x7e]+(?: [\x21-\x7e]+)?$/;

const checked = new WeakMap<AuthMetadata, CallStatus | null>();

/**
 * Whether `header` can go out as gRPC metadata, before a transport throws on it (grpc-js `Metadata.set` throws,
 * quoting the value). `undefined` when it can; otherwise the status that ends the call:
 * - `INTERNAL` for a key that cannot carry the token (see `headerKeyProblem`: not a legal gRPC metadata key, binary,
 *   or reserved), from configuration or the server's `authorization_metadata_key`, naming the key and the reason;
 * - `UNAUTHENTICATED` (details starting with {@link TOKEN_FAILURE_DETAILS_PREFIX}) for a token that is empty or holds
 *   a space, a control or a non-ASCII character, saying which — never the token.
 *
 * Results are remembered per header tuple (authenticators reuse one tuple per token), so the check costs a lookup.
 */
export function checkAuthHeader(header: AuthMetadata): CallStatus | undefined {
  let verdict = checked.get(header);
  if (verdict === undefined) {
    verdict = judge(header);
    checked.set(header, verdict);
  }
  return verdict ?? undefined;
}

function judge([rawKey, value]: AuthMetadata): CallStatus | null {
  const key = String(rawKey).toLowerCase();
  // The same rule as the configuration check (ERR_CONFIG at load time); here for keys that arrive at call time.
  const keyProblem = headerKeyProblem(key);
  if (keyProblem !== undefined) {
    return { code: StatusCode.INTERNAL, details: `invalid auth header key ${JSON.stringify(rawKey)}: ${keyProblem}` };
  }
  if (typeof value === 'string' && LEGAL_VALUE.test(value)) return null;
  return {
    code: StatusCode.UNAUTHENTICATED,
    details: `${TOKEN_FAILURE_DETAILS_PREFIX}the access token cannot be sent in the ${JSON.stringify(key)} header: ${whatIsWrong(value)}`,
  };
}

function whatIsWrong(value: unknown): string {
  if (typeof value !== 'string') return 'it is not a string';
  if (value.slice(value.indexOf(' ') + 1).trim().length === 0) return 'it is empty';
  // Reports the kind of character only: even one character of a token is not for logs.
  let control = false;
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code > 0x7e && code !== 0x7f) return 'it contains a non-ASCII character';
    if (code < 0x20 || code === 0x7f) control = true;
  }
  return control ? 'it contains a control character' : 'it contains a space';
}

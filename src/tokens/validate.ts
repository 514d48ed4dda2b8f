import { AuthenticationError } from '../errors.js';

/**
 * The longest access token accepted, in characters. Real tokens are a few KiB at most (a JWT with many claims);
 * anything longer is a server or command printing something else, and it would go out on every call.
 */
export const MAX_ACCESS_TOKEN_LENGTH = 16 * 1024;

// RFC 6750's `b64token` is a subset of visible ASCII; grpc-js refuses anything outside printable ASCII in a value.
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
// grpc-js lower-cases a key, then allows `[0-9a-z_.-]` (plus `:` for HTTP/2 pseudo-headers, which are no metadata).
const METADATA_KEY = /^[0-9a-z_.-]+$/;
// Keys grpc-js or HTTP/2 own: a token under one of them would be dropped, rejected, or break the request.
const RESERVED_KEYS = new Set(['content-type', 'te', 'user-agent', 'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function describeCharacter(code: number): string {
  if (code === 0x20) return 'a space';
  if (code === 0x0a) return 'a line feed';
  if (code === 0x0d) return 'a carriage return';
  if (code === 0x09) return 'a tab';
  if (code < 0x20 || code === 0x7f) return 'a control character';
  return 'a non-ASCII character';
}

/**
 * Why `token` cannot be sent as `Bearer <token>`, or `undefined` when it can: it must be a non-empty string of at most
 * {@link MAX_ACCESS_TOKEN_LENGTH} visible ASCII characters (0x21–0x7E). The reason never quotes the token.
 */
export function accessTokenProblem(token: unknown): string | undefined {
  if (typeof token !== 'string') return `it is ${token === undefined || token === null ? 'missing' : `a ${typeof token}, not a string`}`;
  if (token.length === 0) return 'it is empty';
  if (token.length > MAX_ACCESS_TOKEN_LENGTH) return `it is ${token.length} characters long (at most ${MAX_ACCESS_TOKEN_LENGTH} are accepted)`;
  if (VISIBLE_ASCII.test(token)) return undefined;
  for (let index = 0; index < token.length; index += 1) {
    const code = token.charCodeAt(index);
    if (code < 0x21 || code > 0x7e) {
      return `character ${index + 1} of ${token.length} is ${describeCharacter(code)}; only visible ASCII characters (0x21-0x7E) can be sent`;
    }
  }
  return undefined;
}

/**
 * Returns `token` when it can be sent as a bearer token; otherwise throws an {@link AuthenticationError}
 * `ERR_BAD_TOKEN_RESPONSE` that names `source` (`the token endpoint https://…`, a file, a keychain item, a command) and
 * never the token; `endpoint` (default `source`) becomes the error's `endpoint`.
 */
export function validateAccessToken(token: unknown, source: string, endpoint: string = source): string {
  const problem = accessTokenProblem(token);
  if (problem === undefined) return token as string;
  throw new AuthenticationError(`${source} gave an access token that cannot be sent as a bearer token: ${problem}`, {
    code: 'ERR_BAD_TOKEN_RESPONSE',
    endpoint,
  });
}

/**
 * Why `key` cannot carry the token as gRPC metadata, or `undefined` when it can. `key` is checked as grpc-js uses it,
 * lower-cased: only `0-9 a-z _ . -`, not a binary (`-bin`) key, not reserved (`grpc-…`, HTTP/2 and gRPC's own headers).
 */
export function headerKeyProblem(key: string): string | undefined {
  const normalised = key.toLowerCase();
  if (normalised === '') return 'it is empty';
  if (!METADATA_KEY.test(normalised)) {
    return 'a gRPC metadata key may hold only the characters 0-9, a-z, _, . and - (letters are lower-cased)';
  }
  if (normalised.endsWith('-bin')) return 'keys ending in -bin carry binary values; a token needs a text key';
  if (normalised.startsWith('grpc-')) return 'keys starting with grpc- are reserved for gRPC itself';
  if (RESERVED_KEYS.has(normalised)) return `${normalised} is a header gRPC or HTTP/2 sets itself`;
  return undefined;
}

// A key is short, but it may be anything: keep it to one printable line in a message.
function quoteKey(key: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = key.replace(/[\x00-\x1f\x7f-\uffff]/g, '?');
  return JSON.stringify(printable.length > 64 ? `${printable.slice(0, 64)}…` : printable);
}

/**
 * The metadata key the token goes under, lower-cased as grpc-js sends it. Throws an {@link AuthenticationError}
 * (`code`, default `ERR_CONFIG`) naming the key and `source` (a config key, an option, the server's client config)
 * when the key cannot be used.
 */
export function validateHeaderKey(key: string, source: string, code: 'ERR_CONFIG' | 'ERR_BAD_TOKEN_RESPONSE' = 'ERR_CONFIG'): string {
  const problem = headerKeyProblem(key);
  if (problem === undefined) return key.toLowerCase();
  throw new AuthenticationError(`the header key ${quoteKey(key)} from ${source} cannot be used: ${problem}`, { code, endpoint: source });
}

import { AuthenticationError } from '../errors.js';

/**
 * flytekit's `AuthType` (`flytekit/configuration/__init__.py`): every enum name with the value flytekit gives it.
 * The values are the config-file spellings (`admin.authType: Pkce`). Several names share one flow: see
 * {@link authFlowOf}.
 *
 * @example
 * ```ts
 * const mode: AuthType = AuthType.CLIENTSECRET; // 'ClientSecret'
 * ```
 */
export const AuthType = Object.freeze({
  STANDARD: 'standard',
  PKCE: 'Pkce',
  BASIC: 'basic',
  CLIENT_CREDENTIALS: 'client_credentials',
  CLIENTSECRET: 'ClientSecret',
  EXTERNAL_PROCESS: 'external_process',
  EXTERNALCOMMAND: 'ExternalCommand',
  DEVICEFLOW: 'DeviceFlow',
} as const);

/** One of the {@link AuthType} values (`'standard'`, `'Pkce'`, `'ClientSecret'`, …). */
export type AuthType = (typeof AuthType)[keyof typeof AuthType];

/** The flow an {@link AuthType} selects; several enum names are aliases of one flow (flytekit's `get_authenticator`). */
export type AuthFlow = 'pkce' | 'clientSecret' | 'externalCommand' | 'deviceFlow';

const FLOW_OF: Readonly<Record<AuthType, AuthFlow>> = Object.freeze({
  standard: 'pkce',
  Pkce: 'pkce',
  basic: 'clientSecret',
  client_credentials: 'clientSecret',
  ClientSecret: 'clientSecret',
  external_process: 'externalCommand',
  ExternalCommand: 'externalCommand',
  DeviceFlow: 'deviceFlow',
});

/**
 * The flow family of an auth type, for the AUTH_MODE switch: `standard`/`Pkce` → `pkce`; `basic`,
 * `client_credentials`, `ClientSecret` → `clientSecret`; `external_process`, `ExternalCommand` → `externalCommand`;
 * `DeviceFlow` → `deviceFlow`.
 */
export function authFlowOf(authType: AuthType): AuthFlow {
  return FLOW_OF[authType];
}

// Every name and every value, upper-cased. flytekit looks up `AuthType[s.upper()]`, and each value upper-cased is its
// own enum name, so one table answers both spellings.
const BY_UPPER: ReadonlyMap<string, AuthType> = new Map(
  Object.entries(AuthType).flatMap(([name, value]) => [
    [name, value],
    [value.toUpperCase(), value],
  ]),
);

const VALID_LIST = Object.values(AuthType).join(', ');

/**
 * Resolves a config-file or environment spelling to an {@link AuthType}, case-insensitively, by enum name or value
 * (`pkce`, `Pkce`, `PKCE`, `clientsecret`, `CLIENT_CREDENTIALS`, `DeviceFlow`, `external_process`, …), as flytekit
 * does. Surrounding whitespace is ignored.
 *
 * @throws {AuthenticationError} code `ERR_CONFIG` for an unknown value; the message lists the valid values and
 *   suggests the closest one when there is a near match.
 */
export function parseAuthType(value: string): AuthType {
  const text = typeof value === 'string' ? value.trim() : '';
  const found = BY_UPPER.get(text.toUpperCase());
  if (found !== undefined) return found;
  const shown = typeof value === 'string' ? `'${value}'` : `of type ${typeof value}`;
  const suggestion = text ? closestAuthType(text) : undefined;
  const hint = suggestion === undefined ? '' : ` Did you mean '${suggestion}'?`;
  throw new AuthenticationError(
    `Unknown authentication type ${shown}. Valid values (any case, enum names work too): ${VALID_LIST}.${hint}`,
    { code: 'ERR_CONFIG' },
  );
}

/** The auth type whose name or value is nearest to `text` (edit distance, or a prefix of at least 3 letters). */
function closestAuthType(text: string): AuthType | undefined {
  const wanted = text.toUpperCase();
  let best: { value: AuthType; distance: number } | undefined;
  for (const [spelling, value] of BY_UPPER) {
    const distance = spelling.startsWith(wanted) && wanted.length >= 3 ? 1 : editDistance(wanted, spelling);
    if (best === undefined || distance < best.distance) best = { value, distance };
  }
  if (best === undefined) return undefined;
  const tolerance = Math.max(1, Math.floor(wanted.length / 3));
  return best.distance <= tolerance ? best.value : undefined;
}

/** Edit distance counting a swap of two neighbouring letters as one edit (`pcke` → `pkce`); the strings are short. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

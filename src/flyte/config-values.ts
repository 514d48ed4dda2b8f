/**
 * Value coercion for config files and environment variables, with flytekit's and flytestdlib's rules. Each function
 * throws {@link InvalidConfigValue} with a reason; the loader adds the file and key (or variable) to it.
 */

/** A value of the wrong type or form. The reason describes the problem without quoting secret-bearing input. */
export class InvalidConfigValue extends Error {
  override name = 'InvalidConfigValue';
}

const FALSE_STRINGS = new Set(['false', '0', 'off', 'no', '']);

/** flytekit's bool rule: `false`, `0`, `off`, `no` (any case) and `""` are false, every other string is true. */
export function parseFlyteBool(text: string): boolean {
  return !FALSE_STRINGS.has(text.trim().toLowerCase());
}

/** A YAML boolean: a real boolean, or a string read with {@link parseFlyteBool}. */
export function yamlBool(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') return parseFlyteBool(raw);
  throw new InvalidConfigValue(`expected true or false, got ${describeType(raw)}`);
}

/** A YAML string; numbers are accepted (an id such as `12345` reads as a number). */
export function yamlString(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  throw new InvalidConfigValue(`expected a string, got ${describeType(raw)}`);
}

/** A comma-separated list, items trimmed, empty items dropped (`"a, b,"` → `['a', 'b']`). */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** A YAML list of strings, or one string read as a comma-separated list (flytestdlib's string-to-slice hook). */
export function yamlList(raw: unknown): string[] {
  if (typeof raw === 'string') return splitList(raw);
  if (!Array.isArray(raw)) throw new InvalidConfigValue(`expected a list of strings, got ${describeType(raw)}`);
  return raw.map((item: unknown, index) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number' && Number.isFinite(item)) return String(item);
    throw new InvalidConfigValue(`item ${index}: expected a string, got ${describeType(item)}`);
  });
}

/** A non-negative integer from YAML (a number or a string of digits). */
export function yamlCount(raw: unknown): number {
  if (typeof raw === 'number' && Number.isInteger(raw) && raw >= 0) return raw;
  if (typeof raw === 'string') return parseCount(raw);
  throw new InvalidConfigValue(`expected a non-negative integer, got ${describeValue(raw)}`);
}

/** A non-negative integer from text (digits only). */
export function parseCount(text: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) throw new InvalidConfigValue(`expected a non-negative integer, got ${describeValue(text)}`);
  return Number(trimmed);
}

const NANOS_PER_MS = 1e6;

const UNIT_MS: Readonly<Record<string, number>> = Object.freeze({
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 MICRO SIGN, as Go accepts
  'μs': 1e-3, // U+03BC GREEK SMALL LETTER MU
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
});

const DURATION_HINT = "a duration such as '15s', '5m0s', '1h30m', '250ms', or a number of nanoseconds";

/**
 * A duration in milliseconds from Go `time.ParseDuration` syntax (`'15s'`, `'5m0s'`, `'1h30m'`, `'1.5h'`,
 * `'250ms'`, `'0'`) or, as flytestdlib's `config.Duration` reads a bare number, a string of digits as nanoseconds.
 * Negative durations are refused: every duration here is a timeout or an interval.
 */
export function parseDurationMs(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) / NANOS_PER_MS;
  const parsed = parseGoDuration(trimmed);
  if (parsed === undefined) throw new InvalidConfigValue(`expected ${DURATION_HINT}, got ${describeValue(text)}`);
  return parsed;
}

/** A YAML duration: a Go duration string, or a number of nanoseconds. */
export function yamlDurationMs(raw: unknown): number {
  if (typeof raw === 'number') {
    if (Number.isFinite(raw) && raw >= 0) return raw / NANOS_PER_MS;
    throw new InvalidConfigValue(`expected ${DURATION_HINT}, got ${describeValue(raw)}`);
  }
  if (typeof raw === 'string') return parseDurationMs(raw);
  throw new InvalidConfigValue(`expected ${DURATION_HINT}, got ${describeType(raw)}`);
}

// Go's grammar: `[+]?(number unit)+` where number is `d+`, `d+.d*` or `.d+`, or the lone "0".
const GO_DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;

function parseGoDuration(text: string): number | undefined {
  const body = text.startsWith('+') ? text.slice(1) : text;
  if (body === '0') return 0;
  if (body === '') return undefined;
  GO_DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = GO_DURATION_PART.exec(body); match !== null; match = GO_DURATION_PART.exec(body)) {
    const [whole, amount, unit] = match;
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
    consumed += whole.length;
  }
  return consumed === body.length && Number.isFinite(total) ? total : undefined;
}

/** `a list`, `a number`, … — the shape of a value, never the value itself. */
export function describeType(raw: unknown): string {
  if (raw === null || raw === undefined) return 'nothing';
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object') return 'a mapping';
  if (typeof raw === 'boolean') return 'a boolean';
  if (typeof raw === 'number') return 'a number';
  if (typeof raw === 'string') return 'a string';
  return `a ${typeof raw}`;
}

// Only used for keys that never hold secrets (durations, counts), and cut short in case of a slip.
function describeValue(raw: unknown): string {
  if (typeof raw === 'string') return `'${raw.length > 40 ? `${raw.slice(0, 40)}…` : raw}'`;
  if (typeof raw === 'number') return String(raw);
  return describeType(raw);
}

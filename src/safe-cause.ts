/**
 * Fields of an error that identify a failure without carrying data: errno and HTTP details, the OAuth error. Anything
 * else an error may hold (a `Response`, a parsed token answer, a request body, a socket) is left behind.
 */
const KEPT_FIELDS = ['code', 'errno', 'syscall', 'status', 'error', 'error_description'] as const;
// Deep enough for openid-client (ClientError → OperationProcessingError → …) and undici (TypeError → SocketError).
const MAX_DEPTH = 8;

function frames(stack: string | undefined): string {
  return (stack ?? '')
    .split('\n')
    .filter((line) => line.startsWith('    at '))
    .join('\n');
}

// A message that may quote data: JSON parse errors show a slice of the text they failed on (a token, perhaps).
function safeMessage(error: Error): string {
  return error instanceof SyntaxError ? 'the body is not valid JSON' : error.message;
}

// An AggregateError keeps at most this many of its errors: each is one failure worth telling apart (Flyte 1 and 2).
const MAX_AGGREGATED = 16;

// An AggregateError stays one, with copies of its errors: they are the failures it reports, the rest is its own.
function copyAggregate(error: AggregateError, message: string, keep: (error: Error) => boolean, depth: number): Error {
  let errors: unknown[] = [];
  try {
    errors = Array.isArray(error.errors) ? error.errors.slice(0, MAX_AGGREGATED) : [];
  } catch {
    // an accessor that refuses: no members
  }
  return new AggregateError(
    errors.map((member) => safeCause(member, keep, depth + 1)).filter((member) => member !== undefined),
    message,
  );
}

function copyError(error: Error, keep: (error: Error) => boolean, depth: number): Error {
  const message = safeMessage(error);
  const copy = error instanceof AggregateError ? copyAggregate(error, message, keep, depth) : new Error(message);
  Object.defineProperty(copy, 'name', { value: error.name, writable: true, configurable: true });
  copy.stack = `${error.name}: ${message}\n${frames(error.stack)}`;
  const fields = copy as unknown as Record<string, unknown>;
  for (const field of KEPT_FIELDS) {
    let value: unknown;
    try {
      value = (error as unknown as Record<string, unknown>)[field];
    } catch {
      continue; // an accessor that refuses this object
    }
    if (typeof value === 'string' || typeof value === 'number') fields[field] = value;
  }
  const cause = safeCause(error.cause, keep, depth + 1);
  if (cause !== undefined) copy.cause = cause;
  return copy;
}

/**
 * A copy of `cause` fit to keep on an error that users log and inspect: the chain of `Error`s with each one's name,
 * message, stack frames and identifying fields (`code`, `errno`, `syscall`, `status`, OAuth `error`), nothing more.
 * An `AggregateError` stays one, holding copies of (at most 16 of) its errors.
 * Everything that can hold a token or a secret is dropped: HTTP responses and their bodies (openid-client attaches
 * the parsed token answer it refused), request bodies, sockets, JSON text quoted by parse errors. A non-`Error` cause
 * becomes `undefined`, except an HTTP response, which becomes an `Error` with its `status`. Errors `keep` accepts (our
 * own, already safe) are kept as they are.
 */
export function safeCause(cause: unknown, keep: (error: Error) => boolean = () => false, depth = 0): unknown {
  if (cause === undefined || cause === null || depth > MAX_DEPTH) return undefined;
  if (cause instanceof Error) return keep(cause) ? cause : copyError(cause, keep, depth);
  if (typeof cause === 'object' && 'status' in cause && typeof cause.status === 'number' && 'headers' in cause) {
    const response = Object.assign(new Error(`HTTP ${cause.status} response`), { status: cause.status });
    response.name = 'HTTPResponse';
    return response;
  }
  return undefined;
}

import { errorMessage, firstLine } from '../util/error-message.js';

/** Receives the stores' one-time warnings (never containing a token). */
export type WarningListener = (message: string) => void;

/** The default {@link WarningListener}: a Node process warning (shown on stderr, silenced by `--no-warnings`). */
export function emitProcessWarning(message: string): void {
  process.emitWarning(message, { type: 'FlyteGrpcAuthWarning' });
}

/** Calls `listener` at most once per `kind`: a store warns about one broken thing once, not on every call. */
export class OnceWarner {
  readonly #listener: WarningListener;
  readonly #warned = new Set<string>();

  constructor(listener: WarningListener | undefined) {
    this.#listener = listener ?? emitProcessWarning;
  }

  warn(kind: string, message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    try {
      this.#listener(message);
    } catch {
      // A throwing listener must not turn a warning into a failure.
    }
  }

  /** Lets `kind` warn again: a second outage after the first one ended is news. */
  reset(kind: string): void {
    this.#warned.delete(kind);
  }
}

/** The first line of an error's message, for warnings: native errors append multi-line backtraces. */
export function describeError(error: unknown): string {
  return firstLine(errorMessage(error)).slice(0, 200) || 'unknown error';
}

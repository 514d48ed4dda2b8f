/** The message of whatever was thrown: an `Error`'s message, anything else (a string, a number, `undefined`) as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The first line of a message, trimmed: native and library errors go on with backtraces, hints or source excerpts
 * (which may quote a config file) on later lines.
 */
export function firstLine(message: string): string {
  return (message.split('\n', 1)[0] ?? '').trim();
}

/** The command line was wrong (unknown command or option, missing value): exit code 2, and the usage is shown. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure the CLI explains in its own words (exit code 1); the message is shown as is. */
export class CliError extends Error {
  override name = 'CliError';
}

import { AuthenticationError } from '../errors.js';
import { REDACTED } from '../flyte/redact.js';
import { sanitizeForTerminal } from '../terminal-text.js';
import { errorMessage } from '../util/error-message.js';

// Shorter strings would redact ordinary words (`a`, `on`) out of the message; real secrets and tokens are longer.
const MIN_SECRET_LENGTH = 4;
// Long enough for any message of ours; a server's essay is cut.
const MAX_LINE = 2_000;

/** `text` with every known secret (4 characters or more) replaced by `<redacted>`. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret && secret.length >= MIN_SECRET_LENGTH) result = result.split(secret).join(REDACTED);
  }
  return result;
}

/**
 * One line for stderr: the error's message (never its stack or its causes, which may quote a server's answer at
 * length) with the OAuth error code when the message lacks it, whitespace collapsed, and every known secret replaced by `<redacted>` as a last line of defence.
 */
export function errorLine(error: unknown, secrets: readonly (string | undefined)[] = []): string {
  let message = errorMessage(error);
  // The OAuth error is what people search for (`invalid_client`, `access_denied`): always on the line.
  if (error instanceof AuthenticationError && error.oauthError && !message.includes(error.oauthError)) message += ` (${error.oauthError})`;
  message = redactSecrets(message, secrets);
  // Servers' words (error descriptions, gRPC status messages) reach the terminal: no escape sequences.
  message = sanitizeForTerminal(message, MAX_LINE).replace(/\s+/g, ' ').trim();
  return message || (error instanceof Error ? error.name : 'unknown error');
}

import { spawn, type ChildProcess } from 'node:child_process';
import { AuthenticationError } from '../errors.js';
import { setLongTimeout } from '../time/long-delay.js';
import { MAX_ACCESS_TOKEN_LENGTH } from '../tokens/validate.js';

/** How {@link runTokenCommand} runs a command. */
export interface TokenCommandOptions {
  /** The command is stopped (with everything it started) after this many milliseconds. */
  timeoutMs: number;
  /** How messages name the command, e.g. `command` or `proxy command`. */
  label: string;
}

// A token is a few KiB at most; anything near this is a command printing something else.
const MAX_STDOUT_BYTES = 1024 * 1024;
// Enough stderr to explain a failure, never so much that an error message becomes a log dump.
const MAX_STDERR_CHARS = 1000;
// How long the pipes may stay open after the command exited (see the 'exit' handler).
const EXIT_GRACE_MS = 200;
// Header values must be visible ASCII; a space or newline means the command printed more than a token.
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

function fail(message: string, command: string, cause?: unknown): AuthenticationError {
  return new AuthenticationError(message, { code: 'ERR_COMMAND', endpoint: command, ...(cause === undefined ? {} : { cause }) });
}

// The command ran, but what it printed is no token that can be sent.
function badToken(message: string, command: string): AuthenticationError {
  return new AuthenticationError(message, { code: 'ERR_BAD_TOKEN_RESPONSE', endpoint: command });
}

// Terminal control characters from stderr have no place in an error message or a log line.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\x00-\x08\x0b-\x1f\x7f]/g;

function boundedStderr(stderr: string): string {
  const trimmed = stderr.replace(CONTROL_CHARACTERS, '?').trim();
  if (!trimmed) return '(nothing on stderr)';
  return trimmed.length > MAX_STDERR_CHARS ? `${trimmed.slice(0, MAX_STDERR_CHARS)}…` : trimmed;
}

/**
 * Stops the command and whatever it started. On POSIX the command leads its own process group, so a shell script's
 * `sleep` or a helper's daemon goes too; otherwise only the process itself can be stopped.
 */
function stop(child: ChildProcess): void {
  if (child.pid !== undefined && process.platform !== 'win32') {
    try {
      process.kill(-child.pid, 'SIGKILL');
      return;
    } catch {
      // The group is gone already (or never formed): fall through to the process itself.
    }
  }
  child.kill('SIGKILL');
}

function spawnFailure(error: NodeJS.ErrnoException, file: string, display: string, label: string): AuthenticationError {
  if (error.code === 'ENOENT') return fail(`${label} not found: ${file} (from \`${display}\`)`, display, error);
  if (error.code === 'EACCES') return fail(`${label} is not executable: ${file} (from \`${display}\`)`, display, error);
  return fail(`${label} \`${display}\` could not be started: ${error.code ?? error.message}`, display, error);
}

/**
 * Runs `command` without a shell (argv as given) and resolves with its trimmed stdout, which must be a single
 * token. Every failure is an {@link AuthenticationError} that names the command, the exit code or signal and stderr,
 * and never quotes stdout (it may hold a token): `ERR_COMMAND` when the command failed, `ERR_BAD_TOKEN_RESPONSE`
 * when it succeeded but printed no sendable token (nothing, several words, non-ASCII, over 16 KiB or 1 MiB).
 */
export function runTokenCommand(command: readonly string[], options: TokenCommandOptions): Promise<string> {
  const { timeoutMs, label } = options;
  const display = command.join(' ');
  const file = command[0] ?? '';
  return new Promise<string>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(file, command.slice(1), {
        stdio: ['ignore', 'pipe', 'pipe'],
        shell: false,
        windowsHide: true,
        // Its own process group, so that a timeout can stop everything the command started.
        detached: process.platform !== 'win32',
      });
    } catch (error) {
      // Synchronous spawn failures: a NUL byte in an argument and the like.
      reject(spawnFailure(error as NodeJS.ErrnoException, file, display, label));
      return;
    }

    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let settled = false;
    let timedOut = false;
    let overflowed = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      cancelTimeout();
      clearTimeout(graceTimer);
      outcome();
    };

    const timeoutError = (): AuthenticationError => fail(`${label} \`${display}\` timed out after ${timeoutMs} ms and was stopped`, display);

    /** Judges the finished command by its exit and what it printed. */
    const conclude = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (timedOut) return reject(timeoutError());
      if (overflowed) {
        return reject(badToken(`${label} \`${display}\` printed more than ${MAX_STDOUT_BYTES} bytes on stdout; expected a single token`, display));
      }
      if (code !== 0) {
        const how = code === null ? `was killed by signal ${signal ?? 'unknown'}` : `exited with code ${code}`;
        return reject(fail(`${label} \`${display}\` ${how}: ${boundedStderr(stderr)}. Run it in a terminal to debug.`, display));
      }
      const token = Buffer.concat(stdout).toString('utf8').trim();
      if (!token) return reject(badToken(`${label} \`${display}\` printed no token on stdout`, display));
      if (!TOKEN_PATTERN.test(token)) {
        return reject(
          badToken(
            `${label} \`${display}\` printed ${token.length} characters on stdout that are not a single token ` +
              '(whitespace or non-ASCII characters inside); it must print only the token',
            display,
          ),
        );
      }
      if (token.length > MAX_ACCESS_TOKEN_LENGTH) {
        return reject(
          badToken(`${label} \`${display}\` printed a token of ${token.length} characters; at most ${MAX_ACCESS_TOKEN_LENGTH} are accepted`, display),
        );
      }
      resolve(token);
    };

    // Any length: a timeout beyond 24.8 days must not overflow a Node timer and stop the command at once.
    const cancelTimeout = setLongTimeout(() => {
      timedOut = true;
      stop(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, timeoutMs);

    child.stdout?.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        overflowed = true;
        stop(child);
        return;
      }
      stdout.push(chunk);
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      // Keep reading past the bound: a full pipe would block the command.
      if (stderr.length <= MAX_STDERR_CHARS) stderr += chunk;
    });

    child.on('error', (error: NodeJS.ErrnoException) => {
      settle(() => reject(spawnFailure(error, file, display, label)));
    });
    // Normally the pipes close right after the exit. A process the command left running (a credential agent) may keep
    // them open: what was printed before the exit has been read by then, so the exit decides after a short grace.
    child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      if (timedOut) {
        settle(() => reject(timeoutError()));
        return;
      }
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        settle(() => conclude(code, signal));
      }, EXIT_GRACE_MS);
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      settle(() => conclude(code, signal));
    });
  });
}
